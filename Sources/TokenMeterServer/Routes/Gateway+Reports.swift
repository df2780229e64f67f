import Foundation
import Hummingbird
import TokenMeterLedger
import TokenMeterReports

extension Gateway {
    /// `GET /admin/reports/monthly?month=YYYY-MM&format=json|csv|html|table[&user=NAME]`: the monthly
    /// usage report (docs/REPORTS.md) for admins. Default month: the current UTC month; default
    /// format: JSON. The body is what `tokenmeter report` prints in the same format.
    func monthlyReport(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        let period: BillingPeriod
        if let month = query.get("month") {
            guard let p = BillingPeriod(parsing: month) else {
                throw GatewayError.badRequest("'\(month)' is not a month; use YYYY-MM, for example 2026-11.", param: "month")
            }
            period = p
        } else {
            period = BillingPeriod(containing: Date())
        }
        let formatName = query.get("format") ?? ReportFormat.json.rawValue
        guard let format = ReportFormat(rawValue: formatName) else {
            let known = ReportFormat.allCases.map(\.rawValue).joined(separator: ", ")
            throw GatewayError.badRequest("Unknown report format '\(formatName)'; use one of \(known).", param: "format")
        }
        let report: MonthlyReport
        do {
            report = try await store.monthlyReport(for: period, userName: query.get("user"))
        } catch let error as LedgerError {
            throw GatewayError.from(error)
        }
        return Response(status: .ok, headers: [.contentType: format.mediaType],
                        body: .init(byteBuffer: ByteBuffer(string: format.render(report))))
    }
}
