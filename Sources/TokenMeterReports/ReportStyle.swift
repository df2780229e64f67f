/// The HTML report's style sheet, inlined in `<style>`: a single column on a phone, two chart columns on
/// a wide screen, tables that scroll sideways on screen and wrap on paper, and colours kept when printed.
enum ReportStyle {
    static let css = """
        :root { --ink: #1d2330; --muted: #5b6475; --line: #d9dee7; --bg: #f4f6f9; --card: #ffffff; }
        * { box-sizing: border-box; }
        html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
        body { margin: 0; background: var(--bg); color: var(--ink);
               font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
        main { max-width: 1120px; margin: 0 auto; padding: 24px 16px 40px; }
        header h1 { font-size: 1.55rem; margin: 0 0 4px; }
        header p { margin: 2px 0; color: var(--muted); }
        .badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 0.8rem; font-weight: 600;
                 vertical-align: middle; margin-left: 6px; }
        .badge.partial { background: #fff3cd; color: #7a5a00; }
        .badge.complete { background: #d7f0dd; color: #1e6b34; }
        .badge.not_started { background: #e6e8ec; color: #444c5a; }
        .cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(160px, 1fr)); gap: 12px; margin-top: 16px; }
        .card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
        .card.wide { grid-column: span 2; }
        .card .label { color: var(--muted); font-size: 0.8rem; text-transform: uppercase; letter-spacing: 0.04em; }
        .card .value { font-size: 1.2rem; font-weight: 600; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
        .panel { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px;
                 margin-top: 16px; }
        .panel h2 { font-size: 1.1rem; margin: 0 0 10px; }
        .columns { display: grid; grid-template-columns: 1fr 1fr; gap: 0 16px; align-items: start; }
        .columns svg.chart { max-width: 720px; }
        .columns .panel { min-width: 0; }
        svg.chart { display: block; width: 100%; height: auto; }
        .chart-scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; }
        svg.chart text { font-size: 12px; fill: var(--muted); }
        svg.chart text.label { fill: var(--ink); }
        svg.chart text.value { fill: var(--ink); font-variant-numeric: tabular-nums; }
        svg.chart .grid { stroke: #e6e9ef; stroke-width: 1; }
        svg.chart .baseline { stroke: #8a93a3; stroke-width: 1; }
        svg.chart .track { fill: #eef1f5; }
        svg.chart .limit { stroke: var(--ink); stroke-width: 1.5; stroke-dasharray: 4 3; }
        .legend { list-style: none; display: flex; flex-wrap: wrap; gap: 4px 16px; padding: 0; margin: 8px 0 0;
                  font-size: 0.85rem; }
        .swatch { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin-right: 6px;
                  vertical-align: -1px; }
        .note, .empty { color: var(--muted); font-size: 0.9rem; margin: 8px 0 0; }
        .scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; }
        table { border-collapse: collapse; width: 100%; font-size: 0.85rem; font-variant-numeric: tabular-nums; }
        th, td { padding: 5px 7px; border-bottom: 1px solid var(--line); white-space: nowrap; text-align: left; }
        th { font-weight: 600; color: var(--muted); font-size: 0.72rem; text-transform: uppercase; letter-spacing: 0.03em;
             white-space: normal; vertical-align: bottom; }
        .num { text-align: right; }
        tfoot td { font-weight: 600; border-top: 2px solid var(--ink); border-bottom: none; }
        .over { color: #c0392b; font-weight: 600; }
        dl.sources { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
        dl.sources dt { font-weight: 600; }
        dl.sources dd { margin: 0; }
        footer { color: var(--muted); font-size: 0.8rem; margin-top: 20px; }
        @media (max-width: 1000px) { .columns { grid-template-columns: 1fr; } }
        @media (max-width: 760px) {
          main { padding: 14px 10px 28px; }
          header h1 { font-size: 1.2rem; }
          .cards { grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); }
          .card .value { font-size: 1.1rem; }
          svg.chart { min-width: 520px; }
          svg.chart.daily { min-width: 640px; }
          dl.sources { grid-template-columns: 1fr; }
        }
        @media print {
          @page { size: A4; margin: 12mm; }
          * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
          body { background: #ffffff; font-size: 9.5pt; }
          main { max-width: none; padding: 0; }
          .panel, .card { border: 1px solid #c9ced8; break-inside: avoid; page-break-inside: avoid; }
          .panel.table-panel { break-inside: auto; page-break-inside: auto; }
          .scroll, .chart-scroll { overflow: visible; }
          svg.chart, svg.chart.daily { min-width: 0; }
          .card .value { font-size: 11pt; overflow-wrap: normal; }
          .panel h2 { break-after: avoid; page-break-after: avoid; }
          table { font-size: 7pt; }
          th { font-size: 6pt; }
          th, td { white-space: normal; padding: 2px 3px; }
          thead { display: table-header-group; }
          tr { break-inside: avoid; page-break-inside: avoid; }
        }
        """
}
