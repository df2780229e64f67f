import Foundation
import TokenMeterJSON

/// An `image_url` content part: where the image is, the requested detail, and its size in pixels
/// when known. The size comes from TokenMeter's optional `width`/`height` members of `image_url`
/// (an estimating extension; OpenAI ignores unknown members) or is read from the header of a
/// `data:` URL (PNG, GIF, JPEG, WebP). A remote URL without them has an unknown size.
public struct ImageInput: Sendable, Equatable {
    /// `"low"`, `"high"`, `"auto"`, or nil when not given (the API then uses auto).
    public var detail: String?
    /// Width in pixels, when known.
    public var width: Int?
    /// Height in pixels, when known.
    public var height: Int?
    /// Whether ``width`` and ``height`` are only what the client declared (its `width`/`height` members), not
    /// read from the image itself. A `data:` URL's own header always wins over a declared size.
    public var sizeIsDeclared: Bool

    public init(detail: String? = nil, width: Int? = nil, height: Int? = nil, sizeIsDeclared: Bool = false) {
        self.detail = detail
        self.width = width
        self.height = height
        self.sizeIsDeclared = sizeIsDeclared
    }

    /// Parses the `image_url` member of a content part (a string URL or `{url, detail}`).
    init(_ value: JSONValue?, path: String) throws(RequestError) {
        let url: String
        switch value {
        case nil: throw .missingField(path: path)
        case .string(let s)?: url = s
        case .object?:
            guard case .string(let s)? = value?["url"] else { throw .missingField(path: "\(path).url") }
            url = s
            switch value?["detail"] {
            case nil, .null?: detail = nil
            case .string(let d)?:
                guard ["low", "high", "auto"].contains(d) else { throw .invalidField(path: "\(path).detail", problem: "\"\(d)\" is not one of low, high, auto") }
                detail = d
            case let v?: throw .invalidField(path: "\(path).detail", problem: "expected a string, found \(v.typeName)")
            }
            for key in ["width", "height"] {
                guard let v = value?[key], v != .null else { continue }
                guard let n = v.integerValue, n >= 1 else {
                    throw .invalidField(path: "\(path).\(key)", problem: "expected a whole number of pixels ≥ 1")
                }
                if key == "width" { width = n } else { height = n }
            }
        case let v?: throw .invalidField(path: path, problem: "expected a URL string or an object with \"url\", found \(v.typeName)")
        }
        if (width == nil) != (height == nil) {
            throw .invalidField(path: path, problem: "give both \"width\" and \"height\", or neither")
        }
        sizeIsDeclared = width != nil
        // The image's own header is the truth: a declared 1x1 must not make a large image count as a small one.
        if let size = ImageInput.sizeFromDataURL(url) {
            width = size.width
            height = size.height
            sizeIsDeclared = false
        }
    }

    /// The pixel size encoded in a base64 `data:` URL's image header, or nil.
    static func sizeFromDataURL(_ url: String) -> (width: Int, height: Int)? {
        guard url.hasPrefix("data:"), let comma = url.firstIndex(of: ","),
              url[..<comma].hasSuffix(";base64") else { return nil }
        guard let data = Data(base64Encoded: String(url[url.index(after: comma)...]), options: .ignoreUnknownCharacters) else { return nil }
        return ImageHeader.size(of: [UInt8](data))
    }
}
