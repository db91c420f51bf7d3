// Relevé — light progressive enhancement. Every page works without this file: charts add a
// picture to tables already on the page, the copy button and the live tail are extras.
(function () {
  "use strict";

  function drawCharts() {
    if (typeof window.Plotly === "undefined") return;
    document.querySelectorAll("[data-chart]").forEach(function (box) {
      var source = document.getElementById(box.getAttribute("data-chart"));
      if (!source) return;
      var data = JSON.parse(source.textContent);
      var traces = data.series.map(function (s) {
        // Exact decimals arrive as strings (no float on the server); drawing needs numbers.
        var y = s.y.map(function (v) { return typeof v === "string" ? Number(v) : v; });
        return { type: "bar", name: s.name, x: data.x, y: y,
                 hovertemplate: "%{x}<br>" + s.name + ": %{y}<extra></extra>" };
      });
      box.classList.add("ready");
      window.Plotly.newPlot(box, traces, {
        barmode: "stack", margin: { t: 10, r: 10, b: 40, l: 50 }, height: 320,
        legend: { orientation: "h", y: -0.2 }, xaxis: { type: "date" },
        yaxis: { title: { text: data.y_title || "events" }, rangemode: "tozero" },
        font: { family: "system-ui, sans-serif", color: "#1b1f24" }
      }, { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["lasso2d", "select2d"] });
    });
  }

  function copyButtons() {
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      var input = document.getElementById(button.getAttribute("data-copy"));
      var status = document.querySelector("[data-copy-status]");
      if (!input || !navigator.clipboard) return;
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(input.value).then(function () {
          if (status) status.textContent = "Link copied to the clipboard.";
        }, function () {
          input.select();
          if (status) status.textContent = "Select the link and copy it.";
        });
      });
    });
  }

  function cell(row, text, code) {
    var td = document.createElement("td");
    if (code) { var c = document.createElement("code"); c.textContent = text; td.appendChild(c); }
    else td.textContent = text;
    row.appendChild(td);
  }

  function liveTail() {
    var box = document.querySelector("[data-tail]");
    if (!box || !window.fetch) return;
    box.hidden = false;
    var toggle = box.querySelector("[data-tail-toggle]");
    var rows = box.querySelector("[data-tail-rows]");
    var status = box.querySelector("[data-tail-status]");
    var after = box.getAttribute("data-after") || "";
    var timer = null;

    function poll() {
      var url = box.getAttribute("data-tail") + (after ? "?after=" + encodeURIComponent(after) : "");
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (body) {
          var events = body.events || [];
          for (var i = events.length - 1; i >= 0; i--) {
            var e = events[i];
            var tr = document.createElement("tr");
            cell(tr, new Date(e.received_at).toLocaleTimeString());
            cell(tr, e.timestamp_text);
            cell(tr, e.external_subscription_id);
            cell(tr, e.code, true);
            cell(tr, e.status + (e.reason_text ? " — " + e.reason_text : ""));
            rows.insertBefore(tr, rows.firstChild);
            if (!after || e.received_at > after) after = e.received_at;
          }
          while (rows.children.length > 100) rows.removeChild(rows.lastChild);
          status.textContent = "Live: " + (events.length ? events.length + " new event(s)." : "waiting for events…");
        })
        .catch(function () { status.textContent = "The live tail could not reach the server; retrying."; });
    }

    toggle.addEventListener("click", function () {
      var on = toggle.getAttribute("aria-pressed") !== "true";
      toggle.setAttribute("aria-pressed", on ? "true" : "false");
      toggle.textContent = on ? "Pause live tail" : "Start live tail";
      if (on) { poll(); timer = window.setInterval(poll, 2000); }
      else { window.clearInterval(timer); status.textContent = "Paused."; }
    });
  }

  function focusErrors() {
    var summary = document.getElementById("error-summary");
    if (summary) summary.focus();
  }

  window.addEventListener("DOMContentLoaded", function () {
    copyButtons(); liveTail(); focusErrors();
  });
  // plotly.min.js is deferred too; it has run by the time "load" fires.
  window.addEventListener("load", drawCharts);
})();
