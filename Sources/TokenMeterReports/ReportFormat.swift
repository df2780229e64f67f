import TokenMeterLedger

/// The formats a ``MonthlyReport`` renders to. Each renderer is a pure function of the report value,
/// so the CLI writes its result to a file or stdout and the server sends it as a response body.
public enum ReportFormat: String, Sendable, Hashable, CaseIterable {
    /// Aligned columns for a terminal, numbers right-aligned, exact USD.
    case table
    /// RFC 4180 CSV, one row per user-model pair (docs/REPORTS.md lists the columns).
    case csv
    /// JSON with the stable schema `tokenmeter.monthly-report/1` (docs/REPORTS.md).
    case json
    /// One self-contained HTML file with inline SVG charts and no scripts.
    case html

    /// The report rendered in this format (UTF-8 text).
    public func render(_ report: MonthlyReport) -> String {
        switch self {
        case .table: TableReportRenderer.render(report)
        case .csv: CSVReportRenderer.render(report)
        case .json: JSONReportRenderer.render(report)
        case .html: HTMLReportRenderer.render(report)
        }
    }

    /// The HTTP `Content-Type` of the rendered report.
    public var mediaType: String {
        switch self {
        case .table: "text/plain; charset=utf-8"
        case .csv: "text/csv; charset=utf-8; header=present"
        case .json: "application/json"
        case .html: "text/html; charset=utf-8"
        }
    }

    /// A file name extension for a download: `txt`, `csv`, `json` or `html`.
    public var fileExtension: String {
        switch self {
        case .table: "txt"
        case .csv, .json, .html: rawValue
        }
    }
}
