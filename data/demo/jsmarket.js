// The demo's JavaScript marketplace (data/demo/jsmarket.py): every page is an empty shell that this script
// fills from the JSON API.  Text goes in with textContent only, so hostile listing text stays text.
(function () {
  "use strict";
  var app = document.getElementById("app");
  var base = app.getAttribute("data-base");

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function ready() {
    app.setAttribute("aria-busy", "false");
    app.setAttribute("data-state", "ready");
  }

  function beacon(kind) {
    // A third-party analytics call, as real marketplaces make: the crawler's network policy refuses it.
    try { fetch(app.getAttribute("data-analytics") + "?e=" + kind, {mode: "no-cors"}).catch(function () {}); }
    catch (e) { /* blocked */ }
  }

  function price(item) {
    if (item.price === null || item.price === undefined || item.price === "") { return "Price on request"; }
    var symbols = {USD: "US $", EUR: "\u20ac", GBP: "\u00a3"};
    return (symbols[item.currency] || (item.currency + " ")) + item.price;
  }

  function renderSearch(data, query) {
    app.appendChild(el("h1", {}, data.total + " results for \u201c" + query + "\u201d"));
    var list = el("ol", {id: "results"});
    data.results.forEach(function (item) {
      var row = el("li", {"class": "result"});
      var link = el("a", {"class": "result-link", href: base + "/item/" + encodeURIComponent(item.id)}, item.title);
      row.appendChild(el("img", {src: item.image, alt: "", width: "120", height: "120", loading: "lazy"}));
      row.appendChild(link);
      row.appendChild(el("span", {"class": "price"}, price(item)));
      list.appendChild(row);
    });
    app.appendChild(list);
    if (data.page < data.pages) {
      var nav = el("nav");
      nav.appendChild(el("a", {rel: "next", href: base + "/search?q=" + encodeURIComponent(query) +
                                 "&page=" + (data.page + 1)}, "Next"));
      app.appendChild(nav);
    }
  }

  function renderItem(item) {
    var product = el("div", {"class": "product"});
    var gallery = el("div", {"class": "gallery"});
    item.images.forEach(function (src, n) {
      gallery.appendChild(el("img", {src: src, alt: item.title + " photo " + (n + 1), width: "600", height: "600"}));
    });
    product.appendChild(gallery);
    product.appendChild(el("h1", {"class": "title"}, item.title));
    product.appendChild(el("div", {"class": "price"}, price(item)));
    var specs = el("dl", {"class": "specs"});
    [["Brand", item.brand], ["SKU", item.sku], ["MPN", item.mpn], ["EAN", item.gtin], ["Sold by", item.seller]]
      .forEach(function (pair) {
        if (pair[1]) { specs.appendChild(el("dt", {}, pair[0] + ":")); specs.appendChild(el("dd", {}, pair[1])); }
      });
    product.appendChild(specs);
    product.appendChild(el("div", {"class": "availability"}, item.available ? "In stock" : "Out of stock"));
    product.appendChild(el("div", {"class": "description"}, item.description));
    app.appendChild(product);
  }

  function load(url, render) {
    fetch(url, {headers: {Accept: "application/json"}})
      .then(function (answer) { if (!answer.ok) { throw new Error("HTTP " + answer.status); } return answer.json(); })
      .then(function (data) { render(data); ready(); })
      .catch(function (error) { app.appendChild(el("p", {"class": "error"}, String(error))); ready(); });
  }

  var params = new URLSearchParams(location.search);
  var view = app.getAttribute("data-view");
  if (view === "search") {
    var query = params.get("q") || "";
    beacon("search");
    load(base + "/api/search?q=" + encodeURIComponent(query) + "&page=" + (params.get("page") || "1"),
         function (data) { renderSearch(data, query); });
  } else if (view === "item") {
    beacon("item");
    load(base + "/api/item/" + encodeURIComponent(app.getAttribute("data-id")), renderItem);
  } else {
    ready();
  }
})();
