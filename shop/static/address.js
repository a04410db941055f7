// The address form's lists, filled as the buyer chooses: a province's cities, a city's districts.
// Without this script the form still works ("Show the cities and districts" sends it back with
// the lists), and the server checks whatever is sent.
(function () {
  "use strict";
  document.querySelectorAll(".address-fields").forEach(function (box) {
    var url = box.getAttribute("data-regions-url");
    var country = box.querySelector("select[name=country]");
    var province = box.querySelector("select[name=province]");
    var city = box.querySelector("select[name=city]");
    var district = box.querySelector("select[name=district]");
    var mainland = box.querySelector("fieldset.mainland");
    var elsewhere = box.querySelector("fieldset.elsewhere");
    var refresh = box.querySelector(".regions-refresh");
    function show(element, shown) { if (element) element.style.display = shown ? "" : "none"; }
    show(refresh, false);

    function fill(select, regions) {
      var first = select.options[0];
      select.length = 0;
      select.add(first);
      regions.forEach(function (r) { select.add(new Option(r.name, r.code)); });
      select.value = "";
      show(select.closest(".field"), regions.length > 0);
    }

    function load(parent, select, then) {
      if (!parent) { fill(select, []); if (then) then(); return; }
      fetch(url + "?parent=" + encodeURIComponent(parent), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (regions) { fill(select, regions); if (then) then(); })
        .catch(function () { show(refresh, true); });
    }

    function showCountry() {
      var inChina = !country || country.value === "CN";
      show(mainland, inChina);
      show(elsewhere, !inChina);
    }

    if (province) province.addEventListener("change", function () {
      load(province.value, city, function () { fill(district, []); });
    });
    if (city) city.addEventListener("change", function () { load(city.value, district); });
    if (country) country.addEventListener("change", showCountry);
    showCountry();
  });
})();
