import TokenMeterReports

/// The console's two static files, served from memory with a long cache lifetime: one style sheet (the
/// report's, so charts and tables look the same, plus the console's own) and one small script.
enum ConsoleAssets {
    static let css = HTMLReportRenderer.styleSheet + """

        .console-nav { display: flex; flex-wrap: wrap; align-items: center; gap: 4px 18px; padding: 10px 16px;
                       background: var(--ink); color: #fff; }
        .console-nav .brand { font-weight: 700; margin-right: 8px; }
        .console-nav a { color: #d6dcff; text-decoration: none; padding: 4px 0; }
        .console-nav a[aria-current="page"] { color: #fff; border-bottom: 2px solid #fff; }
        .console-nav form.sign-out { margin-left: auto; }
        button.link { background: none; border: none; color: #d6dcff; font: inherit; cursor: pointer; padding: 4px 0; }
        h1 { font-size: 1.45rem; margin: 0 0 6px; }
        .flash { background: #d7f0dd; color: #1e6b34; border-radius: 6px; padding: 8px 12px; margin: 0 0 12px; }
        .flash.error { background: #fbe0dc; color: #8c2417; }
        .budget { display: flex; flex-wrap: wrap; align-items: center; gap: 4px 10px; min-width: 220px; }
        svg.bar { width: 180px; height: 12px; border-radius: 3px; flex: none; }
        svg.bar .track { fill: #e6e9ef; }
        svg.bar .settled { fill: #3559e0; }
        svg.bar .held { fill: #f0a030; }
        .budget .figures { font-size: 0.85rem; color: var(--muted); font-variant-numeric: tabular-nums; }
        form.inline { display: inline; }
        form.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 8px 12px; align-items: end; }
        label { display: block; font-size: 0.8rem; color: var(--muted); }
        input[type="text"], input[type="password"], input[type="month"] {
            width: 100%; padding: 7px 9px; border: 1px solid var(--line); border-radius: 6px; font: inherit; }
        button { padding: 7px 12px; border-radius: 6px; border: 1px solid #3559e0; background: #3559e0; color: #fff;
                 font: inherit; cursor: pointer; }
        button.secondary { background: #fff; color: #3559e0; }
        button.danger { background: #fff; color: #b3261e; border-color: #b3261e; }
        td button { padding: 3px 9px; font-size: 0.8rem; }
        code.secret { display: block; padding: 10px; background: #fff8e1; border: 1px dashed #c9a227; border-radius: 6px;
                      font-size: 0.95rem; overflow-wrap: anywhere; user-select: all; }
        .status-disabled, .revoked { color: #b3261e; font-weight: 600; }
        .sign-in { max-width: 420px; margin: 10vh auto 0; }
        .downloads a { margin-right: 14px; }
        .live-note { color: var(--muted); font-size: 0.8rem; }
        @media (max-width: 760px) { .console-nav { padding: 8px 10px; } svg.bar { width: 120px; } }
        """

    /// Refreshes every element marked `data-live="name"` from `/console/live.json` every five seconds (the
    /// page's `data-live-query` is passed along). Without it the figures are those of the page load.
    static let script = """
        "use strict";
        (function () {
          var nodes = document.querySelectorAll("[data-live]");
          if (nodes.length === 0) { return; }
          var query = document.body.getAttribute("data-live-query") || "";
          function refresh() {
            fetch("/console/live.json" + query, { credentials: "same-origin", cache: "no-store" })
              .then(function (response) { return response.ok ? response.json() : null; })
              .then(function (data) {
                if (!data) { return; }
                nodes.forEach(function (node) {
                  var value = data[node.getAttribute("data-live")];
                  if (typeof value === "string") { node.textContent = value; }
                });
              })
              .catch(function () {});
          }
          window.setInterval(refresh, 5000);
        })();

        """
}
