using Mesh.Node.Audit;
using Mesh.Node.Converge;
using Mesh.Protocol.Api;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Versioning;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Operations;

/// <summary>
/// The operations that ask other members, each one <see cref="FleetRequest"/>: a dry run
/// (every targeted node plans), converge (every chosen node re-checks now), and audit (every
/// chosen node's trail).
/// </summary>
public sealed class FleetOperations(FleetRequest fleet, Revisions revisions, HybridClock clock)
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The dry run of a push: every targeted node plans the manifests against its own host
    /// and says what it would change, with diffs. Nothing is recorded in the index and no host
    /// changes; the bodies are put in this node's content store so the targets can pull them.
    /// A silent node is listed as silent.
    /// </summary>
    public async Task<PlanResponse> PlanAsync(PushRequest request, TimeSpan timeout)
    {
        var planned = new List<PlannedManifest>();
        var origin = revisions.Origin(request.Author, "dry run");
        foreach (var manifest in PreparedManifest.PrepareAll(request.Manifests))
        {
            revisions.Store(manifest);
            var revision = RevisionRecord.Of(manifest, clock.Now(), origin, parent: null);
            var answers = await fleet.AskAsync<ApplyReport>(fleet.Members(manifest.Manifest.Target.Matches), Planner.Name, new PlanRequest(revision), timeout);
            planned.Add(new PlannedManifest(manifest.Name, manifest.Hash, answers.Asked.ToArray(),
                answers.Answers.Select(a => a.Reply).OrderBy(p => p.Node, StringComparer.Ordinal).ToArray(), answers.Silent));
        }
        return new PlanResponse(planned.ToArray());
    }

    /// <summary>
    /// Asks the named node (every active member when none is named) to re-check what it
    /// enforces now. Their reports follow as usual; drift they repair is flagged. The request
    /// is about every chosen node, so a silent one fails it (<see cref="SilentMembersException"/>).
    /// </summary>
    public async Task<ConvergeAccepted[]> ConvergeAsync(string? node)
    {
        var answers = await fleet.AskAsync<ConvergeAccepted>(fleet.Named(node), Converger.Name, new ConvergeNow(), AskTimeout);
        if (answers.Silent.Length > 0) throw new SilentMembersException(answers.Silent);
        return answers.Answers.Select(a => a.Reply).ToArray();
    }

    /// <summary>
    /// The audit trails of the named node (every active member when none is named), merged by
    /// time. A silent node's trail cannot be read: an <c>unreachable</c> line, stamped now, says
    /// so in the trail itself, which is the only place the answer's shape has for it.
    /// </summary>
    public async Task<AuditEntry[]> AuditAsync(string? node, DateTimeOffset? since, int limit)
    {
        var answers = await fleet.AskAsync<AuditEntries>(fleet.Named(node), AuditServer.Name, new AuditQuery(since, limit), AskTimeout);
        var unreachable = answers.Silent.Select(n => new AuditEntry(DateTimeOffset.UtcNow, n, "unreachable", "", "", "", "the node did not answer"));
        return answers.Answers.SelectMany(a => a.Reply.Entries).Concat(unreachable).OrderBy(e => e.Time).TakeLast(limit).ToArray();
    }
}
