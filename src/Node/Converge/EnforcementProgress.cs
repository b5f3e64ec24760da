using Mesh.Protocol.Manifests;
using Mesh.Protocol.Versioning;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Converge;

/// <summary>
/// How far the converger got, as <see cref="EnforcementQueue.Progress"/> saw it: per manifest,
/// the newest revision it dealt with. A node is caught up with an index when every head there
/// that targets it has been dealt with; a failed apply or a rejection counts (the node did what
/// it could, and says so in its report), a revision being pulled or applied does not.
/// </summary>
public sealed class EnforcementProgress(NodeIdentity self, IReadOnlyDictionary<string, HybridTimestamp> handled,
    System.Text.Json.Nodes.JsonObject? facts = null)
{
    /// <summary>The heads of <paramref name="index"/> that target this node and that it has not dealt with yet, by name.</summary>
    public string[] PendingFor(IEnumerable<RevisionRecord> index) =>
        index.Where(head => head.Target.Matches(self, facts))
            .Where(head => !handled.TryGetValue(head.Manifest, out var version) || !DealtWith(version, head.Version))
            .Select(head => head.Manifest)
            .Order(StringComparer.Ordinal)
            .ToArray();

    /// <summary>
    /// The head itself, or a newer one heard of by announcement before this replica of the index
    /// had it. On a tie of wall time and counter the index's choice is still to come
    /// (<see cref="EnforcementQueue.Replaces"/>), so only the very version counts.
    /// </summary>
    private static bool DealtWith(HybridTimestamp handled, HybridTimestamp head) => handled.Equals(head) || handled.Packed > head.Packed;
}
