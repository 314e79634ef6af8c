/// The version of this tree's daemons and CLI, as `health` (`details.version`) and `GET /api/admin/status` report
/// it, so an operator sees which build each running daemon is (after an upgrade, a daemon not restarted shows the
/// old one). Set when a release is cut; between releases it names the next one with `-dev`.
public enum BagbotVersion {
    public static let current = "0.14.0-dev"
}
