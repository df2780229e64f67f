/// Colours of chart series: distinct in print and for the common colour-vision deficiencies (Okabe–Ito
/// order, darkened for contrast on white), with grey for "other users".
enum ChartPalette {
    /// Series colours, in order of assignment.
    static let series = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#b8a400", "#6a3d9a"]
    /// The colour of the remainder series.
    static let other = "#9aa0a6"

    /// The colour of series number `index` (wraps around).
    static func color(_ index: Int) -> String { series[index % series.count] }
}
