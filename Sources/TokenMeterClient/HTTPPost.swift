import CCurl
import Foundation

/// One small HTTP POST whose answer body does not matter (a webhook call): a blocking libcurl transfer on a
/// thread of its own, so it never occupies the streaming loops' threads or the server's event loops.
public enum HTTPPost {
    /// POSTs `body` to `url` with `headers` (`Name: value` lines); returns the HTTP status, or throws
    /// ``ChatClientError/transport(code:message:)`` when no answer came within `timeout` seconds.
    public static func send(_ body: [UInt8], to url: String, headers: [String], timeout: Double = 10) async throws(ChatClientError) -> Int {
        let result: Result<Int, ChatClientError> = await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: perform(body, url: url, headers: headers, timeout: timeout)) }
            thread.name = "tokenmeter-post"
            thread.start()
        }
        return try result.get()
    }

    private static func perform(_ body: [UInt8], url: String, headers: [String], timeout: Double) -> Result<Int, ChatClientError> {
        _ = curlGlobalInit
        guard let easy = curl_easy_init() else { return .failure(.transport(code: -1, message: "curl_easy_init failed")) }
        var list: UnsafeMutablePointer<curl_slist>?
        defer {
            curl_easy_cleanup(easy)
            curl_slist_free_all(list)
        }
        for header in headers { list = curl_slist_append(list, header) }
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(to: 0)
        defer { errorBuffer.deallocate() }
        let discard: tm_data_callback = { _, size, count, _ in size * count }
        var ok = tm_easy_setopt_str(easy, CURLOPT_URL, url) == CURLE_OK
        ok = ok && tm_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, list) == CURLE_OK
        ok = ok && tm_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1) == CURLE_OK
        ok = ok && tm_easy_setopt_long(easy, CURLOPT_TIMEOUT_MS, EasyTransfer.milliseconds(timeout)) == CURLE_OK
        ok = ok && tm_easy_setopt_ptr(easy, CURLOPT_ERRORBUFFER, errorBuffer) == CURLE_OK
        ok = ok && tm_easy_setopt_write_callback(easy, discard) == CURLE_OK
        ok = ok && tm_easy_setopt_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)) == CURLE_OK
        ok = ok && body.withUnsafeBytes { bytes in
            // COPYPOSTFIELDS copies the bytes; an empty body is sent as the empty string.
            guard let base = bytes.baseAddress else { return tm_easy_setopt_str(easy, CURLOPT_COPYPOSTFIELDS, "") == CURLE_OK }
            return tm_easy_setopt_ptr(easy, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: base)) == CURLE_OK
        }
        guard ok else { return .failure(.invalidRequest(reason: "libcurl rejected the URL \(url) or an option")) }
        let code = curl_easy_perform(easy)
        guard code == CURLE_OK else {
            let message = String(cString: errorBuffer)
            return .failure(.transport(code: Int(code.rawValue), message: message.isEmpty ? String(cString: curl_easy_strerror(code)) : message))
        }
        var status = 0
        _ = tm_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        return .success(status)
    }
}
