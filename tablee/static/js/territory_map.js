// Territory page: the EPCI's communes as circles on a Leaflet map, sized by population.
(function () {
  "use strict";
  var element = document.getElementById("carte-territoire");
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
    var radius = Math.max(4, Math.min(18, Math.sqrt(point.pop) / 6));
    L.circleMarker([point.lat, point.lon], {
      radius: radius,
      color: "#154559",
      weight: 1,
      fillColor: "#1d5c7a",
      fillOpacity: 0.6,
    })
      .bindPopup(point.name + " (" + point.code + ") : " + point.pop.toLocaleString("fr-FR") + " hab.")
      .addTo(map);
    bounds.push([point.lat, point.lon]);
  });
  if (bounds.length) {
    map.fitBounds(bounds, { padding: [20, 20] });
  } else {
    map.setView([46.6, 2.4], 5);
  }
})();
