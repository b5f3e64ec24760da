using System.Text;
using Akka.Cluster;
using Akka.DistributedData;
using Mesh.Node.Content;
using Mesh.Node.Membership;
using Mesh.Node.Providers;
using Mesh.Node.Replication;
using Mesh.Protocol.Api;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Versioning;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Operations;

/// <summary>
/// What any node can tell about the whole mesh from its own replica, with no coordinator:
/// members, manifests, one revision with its body, a manifest's history, the diff of two of its
/// revisions, where every targeted node stands, and the writes concurrent pushes lost.
/// </summary>
public sealed class Queries(string self, Cluster cluster, ReplicatedStore store, RevisionLoader loader, Revisions revisions, Connectivity connectivity,
    Mesh.Node.Facts.FleetView fleet, Acknowledgements acks, ClockOffsets clocks)
{
    public IReadOnlyList<MemberInfo> Members() => Members(false, null);

    /// <summary>
    /// The members, with their facts (<paramref name="facts"/>), and only those a target selects
    /// (<paramref name="target"/>: the <c>--target</c> text, by the rule push reports use; null: all).
    /// </summary>
    /// <exception cref="ManifestException">the target does not parse</exception>
    public IReadOnlyList<MemberInfo> Members(bool facts, string? target)
    {
        var selected = target is null ? null
            : Membership.Members.Targeted(cluster, ManifestParser.ParseTarget(target), fleet).ToHashSet(StringComparer.Ordinal);
        return cluster.State.Members.Select(m => Membership.Members.Describe(m, cluster))
            .Concat(fleet.Attached.Select(Membership.Members.Describe))
            .Where(m => selected is null || selected.Contains(m.Name))
            .Select(m => facts ? m with { Facts = fleet.FactsOf(m.Name) } : m)
            .OrderBy(m => m.Name, StringComparer.Ordinal).ToArray();
    }

    /// <summary>Every member's facts as this node knows them (<paramref name="node"/>: one member's); empty when there is no such member.</summary>
    public NodeFactsInfo[] Facts(string? node) =>
        cluster.State.Members.Select(m => NodeRoles.Decode(m).Name).Distinct()
            .Where(name => node is null || name == node)
            .Order(StringComparer.Ordinal)
            .Select(name =>
            {
                var (values, errors) = fleet.Describe(name);
                return new NodeFactsInfo(name, values is not null, values, errors);
            })
            .ToArray();

    /// <summary>How long the heads read from a majority for <see cref="ManifestsAsync"/> may take before this replica's are given.</summary>
    public static readonly TimeSpan QuorumReadTimeout = TimeSpan.FromSeconds(3);

    /// <summary>
    /// The manifests that exist (not deleted), by name, with the members each targets now. With
    /// <paramref name="quorum"/> the heads are read as a push checks them, from a majority: the
    /// base a push or a deletion is made over, so that one made at once after another through a
    /// different node is not refused as a conflict because this replica had not heard of the
    /// first yet. A node that sees no majority reachable, or gets no answer within
    /// <see cref="QuorumReadTimeout"/>, gives its own replica's at once (its push will say it
    /// was not replicated anyway).
    /// </summary>
    public async Task<ManifestSummary[]> ManifestsAsync(bool quorum = false) =>
        (quorum && Membership.Members.SeesMajority(cluster) ? await QuorumIndexAsync() : await store.IndexAsync())
            .Values.Where(r => !r.Deleted).OrderBy(r => r.Manifest, StringComparer.Ordinal)
            .Select(r => new ManifestSummary(r, Membership.Members.Targeted(cluster, r.Target, fleet))).ToArray();

    private async Task<IReadOnlyDictionary<string, RevisionRecord>> QuorumIndexAsync()
    {
        try
        {
            return await store.IndexAsync(new ReadMajority(QuorumReadTimeout));
        }
        catch (StoreUnavailableException)
        {
            return await store.IndexAsync();
        }
    }

    /// <summary>A revision of a manifest (the head by default) with its canonical body, pulled from a peer if this node lacks it.</summary>
    public async Task<ManifestDetail?> GetAsync(string name, string? revision = null)
    {
        var record = revision is null ? await store.HeadAsync(name) : await revisions.FindAsync(name, revision);
        if (record is null || record.Deleted) return null;
        return new ManifestDetail(record, System.Text.Encoding.UTF8.GetString(await loader.BodyAsync(record)));
    }

    /// <summary>
    /// A unified diff from revision <paramref name="from"/> of a manifest to <paramref name="to"/>
    /// (each named as <see cref="Revisions.FindAsync"/> takes it), of their canonical bodies indented
    /// for reading; null when either is not a retained revision with content.
    /// </summary>
    public async Task<RevisionDiff?> DiffAsync(string name, string from, string to)
    {
        if (await GetAsync(name, from) is not { } older || await GetAsync(name, to) is not { } newer) return null;
        var diff = FileProvider.UnifiedDiff($"{name}@{older.Revision.Version}", $"{name}@{newer.Revision.Version}",
            CanonicalText.Pretty(older.Canonical), Encoding.UTF8.GetBytes(CanonicalText.Pretty(newer.Canonical)));
        return new RevisionDiff(name, older.Revision, newer.Revision, diff);
    }

    /// <summary>
    /// Every retained revision of a manifest, newest first: which is the head, which nodes'
    /// latest successful report is for it (this node too when it has not joined: offline, it
    /// still applies), and which a concurrent push lost. Empty when there is no such manifest.
    /// </summary>
    public async Task<HistoryEntry[]> HistoryAsync(string name)
    {
        var history = await store.HistoryAsync(name);
        if (history.Count == 0) return [];
        var head = await store.HeadAsync(name);
        var applied = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var member in Members().Select(m => m.Name).Append(self).Distinct())
            if ((await store.ReportsOfAsync(member)).TryGetValue(name, out var report) && report.Succeeded)
                (applied.TryGetValue(report.Version.ToString(), out var nodes) ? nodes : applied[report.Version.ToString()] = []).Add(member);
        var lost = new HashSet<HybridTimestamp>(head is null ? [] : Lineage.LostRevisions(history, head).Select(l => l.Lost.Version));
        return history.Select(r => new HistoryEntry(r, head is not null && head.Version.Equals(r.Version),
            applied.GetValueOrDefault(r.Version.ToString())?.Order(StringComparer.Ordinal).ToArray() ?? [], lost.Contains(r.Version))).ToArray();
    }

    /// <summary>
    /// Where every targeted member stands with every manifest: applied (ok or failed) at the
    /// head revision, or pending (no report yet for the head, or a pending one: the node is still
    /// getting the body, its report says why); whether this node is offline; the writes
    /// concurrent pushes lost that nobody has settled yet; and the clocks that are off.
    /// </summary>
    /// <param name="manifest">only this manifest</param>
    /// <param name="node">only the nodes whose name matches this glob (<c>*</c>, <c>?</c>, as targets take them)</param>
    /// <param name="states">only the rows in one of these states (ok, pending, failed, rejected): a large fleet's
    /// failures without the hundreds of rows that are fine</param>
    public async Task<StatusReport> StatusAsync(string? manifest, string? node = null, IReadOnlyCollection<string>? states = null)
    {
        var heads = (await store.IndexAsync()).Values.Where(h => manifest is null || h.Manifest == manifest).ToArray();
        var now = connectivity.Current;
        var rows = await ManifestStatusAsync(heads, node);
        if (states is { Count: > 0 }) rows = rows.Where(r => states.Contains(r.State)).ToArray();
        return new StatusReport(self, now.Offline, now.Since, now.Reason, rows, await LostWritesAsync(heads),
            acks.Unreplicated(), now.Offline ? connectivity.Seeds : null, clocks.Skews());
    }

    private async Task<NodeStatus[]> ManifestStatusAsync(IEnumerable<RevisionRecord> heads, string? nodeGlob)
    {
        var reports = new Dictionary<string, IReadOnlyDictionary<string, ApplyReport>>(StringComparer.Ordinal);
        var result = new List<NodeStatus>();
        foreach (var head in heads.Where(h => !h.Deleted).OrderBy(h => h.Manifest, StringComparer.Ordinal))
        {
            foreach (var node in Membership.Members.Targeted(cluster, head.Target, fleet))
            {
                if (nodeGlob is not null && !Glob.IsMatch(nodeGlob, node)) continue;
                if (!reports.TryGetValue(node, out var ofNode)) reports[node] = ofNode = await store.ReportsOfAsync(node);
                ofNode.TryGetValue(head.Manifest, out var report);
                var state = report is null || report.Version.CompareTo(head.Version) != 0
                    ? StatusFilter.Pending
                    : report.Outcome switch
                    {
                        ApplyOutcome.Ok => StatusFilter.Ok, ApplyOutcome.Rejected => StatusFilter.Rejected, ApplyOutcome.Pending => StatusFilter.Pending,
                        _ => StatusFilter.Failed,
                    };
                result.Add(new NodeStatus(node, head.Manifest, state, report, head));
            }
        }
        return result.ToArray();
    }

    /// <summary>
    /// Revisions that a concurrent push overwrote without seeing them (<see cref="Lineage"/>),
    /// for as long as the revision that overwrote them is still the head: a push over it (a
    /// rollback to the lost revision, or a change that takes it in) settles the loss.
    /// </summary>
    private async Task<LostWrite[]> LostWritesAsync(IReadOnlyList<RevisionRecord> heads)
    {
        var history = await store.HistoriesAsync(heads.Select(h => h.Manifest));
        return heads.OrderBy(h => h.Manifest, StringComparer.Ordinal)
            .SelectMany(head => Lineage.LostRevisions(history[head.Manifest], head)
                .Where(loss => loss.Winner.Version.Equals(head.Version))
                .Select(loss => new LostWrite(head.Manifest, loss.Lost, loss.Winner)))
            .ToArray();
    }
}
