// Diagnostic synthesis: the communes with no food-aid point within 10 km, on a Leaflet map.
// The same communes are listed in the table under the map.
(function () {
  "use strict";
  var element = document.getElementById("carte-couverture");
  if (!element || typeof L === "undefined") {
    return;
  }
  var points = JSON.parse(document.getElementById(element.dataset.pointsId).textContent);
  var map = L.map(element, { scrollWheelZoom: false });
  L.tileLayer(element.dataset.tileUrl, {
    maxZoom: 18,
    attribution: element.dataset.tileAttribution,
  }).addTo(map);
  var bounds = [];
  points.forEach(function (point) {
    var distance = point.km === null ? "aucun point à moins de 10 km" : "point le plus proche à " + String(point.km).replace(".", ",") + " km";
    L.circleMarker([point.lat, point.lon], {
      radius: 7,
      color: "#8a2c0d",
      weight: 2,
      fillColor: "#c4441b",
      fillOpacity: 0.6,
    })
      .bindPopup(point.name + " (" + point.code + ") : " + distance)
      .addTo(map);
    bounds.push([point.lat, point.lon]);
  });
  if (bounds.length) {
    map.fitBounds(bounds, { padding: [30, 30], maxZoom: 11 });
  }
})();
