/// The version of this TokenMeter build, as `tokenmeter --version` prints it (semantic versioning). The one
/// place it is written: change it here when a release is tagged.
enum TokenMeterVersion {
    /// `major.minor.patch`.
    static let current = "0.7.0"
}
