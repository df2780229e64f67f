/// An ordered list of distinct notes (approximation reasons), first occurrence first.
struct NoteList {
    private(set) var items: [String] = []
    mutating func add(_ note: String) {
        if !items.contains(note) { items.append(note) }
    }
}
