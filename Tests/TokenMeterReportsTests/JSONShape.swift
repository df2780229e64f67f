import Foundation
import Testing

/// The documented JSON schema of a monthly report (docs/REPORTS.md), as a value the tests check documents
/// against: every object must have exactly these keys with values of these kinds.
indirect enum JSONShape: Sendable {
    case integer
    case nullableInteger
    case string
    case nullableString
    /// An exact decimal string of USD: digits, a point, 2 to 12 decimals.
    case money
    case nullableMoney
    /// A percentage with one decimal and a minus sign when negative (`"-0.4"`), or null.
    case nullablePercent
    /// `YYYY-MM-DD`.
    case date
    /// `YYYY-MM-DDTHH:MM:SSZ`.
    case timestamp
    case nullableTimestamp
    case oneOf([String])
    /// Null, or a value of the shape.
    case nullable(JSONShape)
    case array(JSONShape)
    case object([String: JSONShape])

    static let totals: JSONShape = .object([
        "requests": .integer, "prompt_tokens": .integer, "completion_tokens": .integer, "billed_tokens": .integer,
        "cost_usd": .money,
        "provider_reported": .object([
            "requests": .integer, "prompt_tokens": .integer, "completion_tokens": .integer,
            "cached_tokens": .nullableInteger, "reasoning_tokens": .nullableInteger,
        ]),
        "billed_by": .object([
            "provider": .object(["requests": .integer, "billed_tokens": .integer, "cost_usd": .money]),
            "local": .object(["requests": .integer, "billed_tokens": .integer, "cost_usd": .money]),
        ]),
        "outcomes": .object([
            "completed": .integer, "cut_by_budget": .integer, "client_cancelled": .integer,
            "upstream_error": .integer, "interrupted": .integer,
        ]),
        "estimated": .object(["completion_tokens": .integer, "cost_usd": .money]),
        "overrun_usd": .money,
        "drift": .nullable(.object([
            "requests": .integer,
            "local_prompt_tokens": .integer, "provider_prompt_tokens": .integer, "prompt_tokens": .integer,
            "prompt_percent": .nullablePercent,
            "local_completion_tokens": .integer, "provider_completion_tokens": .integer, "completion_tokens": .integer,
            "completion_percent": .nullablePercent,
        ])),
    ])

    /// `tokenmeter.monthly-report/1`.
    static let monthlyReport: JSONShape = .object([
        "schema": .oneOf(["tokenmeter.monthly-report/1"]),
        "month": .string, "first_day": .date, "last_day": .date,
        "coverage": .oneOf(["complete", "partial", "not_started"]),
        "data_through": .nullableTimestamp, "generated_at": .timestamp,
        "user_filter": .nullableString, "currency": .oneOf(["USD"]),
        "totals": totals,
        "users": .array(.object([
            "user": .string, "status": .oneOf(["active", "disabled"]),
            "budget": .object([
                "monthly_usd": .nullableMoney, "monthly_tokens": .nullableInteger, "max_request_usd": .nullableMoney,
                "monthly_usd_used_percent": .nullableString, "monthly_tokens_used_percent": .nullableString,
            ]),
            "totals": totals,
        ])),
        "models": .array(.object(["model": .string, "totals": totals])),
        "user_models": .array(.object(["user": .string, "model": .string, "totals": totals])),
        "days": .array(.object([
            "date": .date, "requests": .integer, "billed_tokens": .integer, "cost_usd": .money,
            "users": .array(.object(["user": .string, "requests": .integer, "billed_tokens": .integer,
                                     "cost_usd": .money])),
        ])),
    ])

    /// The places where `value` (from JSONSerialization) does not fit this shape; empty when it fits.
    func violations(_ value: Any, at path: String = "$") -> [String] {
        func matches(_ pattern: String) -> Bool {
            guard let s = value as? String else { return false }
            return s.range(of: pattern, options: .regularExpression) != nil
        }
        let isNull = value is NSNull
        switch self {
        case .integer: return Self.isInteger(value) ? [] : ["\(path): expected an integer, got \(value)"]
        case .nullableInteger: return isNull || Self.isInteger(value) ? [] : ["\(path): expected an integer or null"]
        case .string: return value is String ? [] : ["\(path): expected a string"]
        case .nullableString: return isNull || value is String ? [] : ["\(path): expected a string or null"]
        case .money: return matches(#"^[0-9]+\.[0-9]{2,12}$"#) ? [] : ["\(path): expected a decimal USD string, got \(value)"]
        case .nullableMoney:
            return isNull || matches(#"^[0-9]+\.[0-9]{2,12}$"#) ? [] : ["\(path): expected a decimal USD string or null"]
        case .date: return matches(#"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"#) ? [] : ["\(path): expected YYYY-MM-DD"]
        case .timestamp:
            return matches(#"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"#) ? [] : ["\(path): expected a UTC timestamp"]
        case .nullableTimestamp:
            return isNull || matches(#"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"#) ? []
                : ["\(path): expected a UTC timestamp or null"]
        case .nullablePercent:
            return isNull || matches(#"^-?[0-9]+\.[0-9]$"#) ? [] : ["\(path): expected a one-decimal percentage or null"]
        case .nullable(let shape): return isNull ? [] : shape.violations(value, at: path)
        case .oneOf(let allowed):
            return (value as? String).map(allowed.contains) == true ? [] : ["\(path): expected one of \(allowed)"]
        case .array(let element):
            guard let items = value as? [Any] else { return ["\(path): expected an array"] }
            return items.enumerated().flatMap { element.violations($1, at: "\(path)[\($0)]") }
        case .object(let members):
            guard let object = value as? [String: Any] else { return ["\(path): expected an object"] }
            var problems: [String] = []
            let extra = Set(object.keys).subtracting(members.keys), missing = Set(members.keys).subtracting(object.keys)
            if !extra.isEmpty { problems.append("\(path): undocumented keys \(extra.sorted())") }
            if !missing.isEmpty { problems.append("\(path): missing keys \(missing.sorted())") }
            for (key, shape) in members { if let v = object[key] { problems += shape.violations(v, at: "\(path).\(key)") } }
            return problems
        }
    }

    /// Whether a JSONSerialization value is an integral number (not a string, not a fraction).
    private static func isInteger(_ value: Any) -> Bool {
        guard let n = value as? NSNumber else { return false }
        return n.int64Value.description == n.stringValue
    }
}
