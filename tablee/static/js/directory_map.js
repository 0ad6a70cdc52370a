// Directory map: the filtered structures as clustered markers (Leaflet.markercluster).
// The points come from the JSON endpoint named in data-url; the list page is the accessible
// alternative. Popups are built with DOM nodes, never from HTML strings (names are user data).
(function () {
  "use strict";
  var element = document.getElementById("carte-annuaire");
  if (!element || typeof L === "undefined") {
    return;
  }
  var status = document.getElementById(element.dataset.statusId);
  var map = L.map(element, { scrollWheelZoom: false });
  L.tileLayer(element.dataset.tileUrl, {
    maxZoom: 18,
    attribution: element.dataset.tileAttribution,
  }).addTo(map);
  map.setView([46.6, 2.4], 5);

  function say(text) {
    if (status) {
      status.textContent = text;
    }
  }

  function popup(point) {
    var box = document.createElement("div");
    var link = document.createElement("a");
    link.href = point.url;
    link.textContent = point.name;
    box.appendChild(link);
    var details = document.createElement("div");
    details.textContent = point.sector_label + " — " + point.commune;
    box.appendChild(details);
    if (point.approximate) {
      var note = document.createElement("div");
      note.className = "small";
      note.textContent = "Position approximative (centre de la commune)";
      box.appendChild(note);
    }
    return box;
  }

  var group = typeof L.markerClusterGroup === "function" ? L.markerClusterGroup() : L.layerGroup();
  fetch(element.dataset.url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) {
        throw new Error("HTTP " + response.status);
      }
      return response.json();
    })
    .then(function (data) {
      var bounds = [];
      data.structures.forEach(function (point) {
        var marker = L.marker([point.lat, point.lon], { title: point.name, alt: point.name });
        marker.bindPopup(popup(point));
        group.addLayer(marker);
        bounds.push([point.lat, point.lon]);
      });
      map.addLayer(group);
      if (bounds.length) {
        map.fitBounds(bounds, { padding: [20, 20], maxZoom: 13 });
      }
      var text = data.count + (data.count > 1 ? " structures sur la carte." : " structure sur la carte.");
      if (data.truncated) {
        text += " Seules les " + data.limit + " premières sont affichées : affinez la recherche.";
      }
      if (data.without_position) {
        text += " " + data.without_position + " sans position connue n'y figurent pas.";
      }
      say(text);
    })
    .catch(function () {
      say("La carte n'a pas pu être chargée. La liste reste disponible.");
    });
})();
