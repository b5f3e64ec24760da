using Akka.Actor;
using Akka.Cluster;
using Mesh.Node.Audit;
using Mesh.Node.Configuration;
using Mesh.Node.Content;
using Mesh.Node.Membership;
using Mesh.Node.Replication;
using Mesh.Protocol.Api;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Signing;
using Mesh.Protocol.Versioning;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Operations;

/// <summary>
/// The changes a node accepts: a push (with compare-and-set), a deletion, a rollback. Each
/// reads top to bottom: prepare the manifests, refuse what the trust list or a moved head (read
/// at the change's ack level) forbids, store the bodies and have the quorum hold them, record the
/// revision in the replicated index and history (written to the quorum), write the audit trail,
/// announce it, and say whether the quorum was reached (<see cref="Acknowledgements"/>).
/// </summary>
public sealed class Revisions(NodeSettings settings, LiveSettings live, Cluster cluster, ReplicatedStore store, ContentStore content, RevisionLoader loader,
    HybridClock clock, AuditLog audit, IActorRef topics, Mesh.Node.Facts.FleetView fleet, RolloutOperations rollouts, Acknowledgements acks)
{
    /// <summary>
    /// Validates every file first: one bad file refuses the whole push and nothing is stored.
    /// Then the signatures: with a trust list every manifest must be signed by a trusted key,
    /// and any signature given must match the content whatever the policy. A manifest whose
    /// canonical bytes equal its head's is not a new revision.
    /// </summary>
    public async Task<PushResponse> PushAsync(PushRequest request)
    {
        var prepared = PreparedManifest.PrepareAll(request.Manifests);
        // The effective rollout policy of each manifest, flags included: a bad flag refuses the whole push.
        var policies = prepared.ToDictionary(p => p.Name, p => RolloutOperations.PolicyOf(p.Manifest, request.Rollout), StringComparer.Ordinal);
        RefuseUntrusted(prepared.Select(p => (p.Name, RevisionSignature.ContentStatement(p.Name, p.Hash))), request.Signatures);
        var ack = acks.Begin(request.Ack ?? AckLevel.Majority);
        var index = await ack.ReadAsync(consistency => store.IndexAsync(consistency));
        if (!request.Force) RefuseStaleParents(request, prepared, index);
        if (!request.Force) await RefuseBusyRollouts(prepared.Select(p => p.Name));
        var origin = Origin(request.Author, request.Message);

        // Bodies first, on this disk and the quorum's, so that no record ever names a body only this node holds.
        var unchanged = prepared.Select(m => index.GetValueOrDefault(m.Name)).OfType<RevisionRecord>()
            .Where(head => !head.Deleted && prepared.Any(m => m.Name == head.Manifest && m.Hash == head.Hash))
            .ToDictionary(head => head.Manifest, StringComparer.Ordinal);
        var bodies = prepared.Where(m => !unchanged.ContainsKey(m.Name)).ToDictionary(m => m.Name, Store, StringComparer.Ordinal);
        await ack.HoldAsync(bodies.Values.SelectMany(h => h));
        if (bodies.Count > 0)
        {
            // Holding the bodies took time (up to the ack timeout): a change that landed meanwhile
            // must still fail the compare-and-set, and the new records must name the head as it is now.
            index = await ack.ReadAsync(consistency => store.IndexAsync(consistency));
            if (!request.Force) RefuseStaleParents(request, prepared, index);
        }

        var pushed = new List<PushedRevision>();
        var made = new List<(RevisionRecord, string[])>();
        foreach (var manifest in prepared)
        {
            if (unchanged.TryGetValue(manifest.Name, out var same))
            {
                pushed.Add(new PushedRevision(same, Unchanged: true, Members.Targeted(cluster, same.Target, fleet)));
                continue;
            }
            index.TryGetValue(manifest.Name, out var head);

            // A node whose wall clock lags must still stamp a version above the head it replaces.
            if (head is not null) clock.Observe(head.Version);
            var record = RevisionRecord.Of(manifest, clock.Now(), origin, head?.Version.ToString(), request.Signatures?.GetValueOrDefault(manifest.Name));
            RolloutStatus? rollout = null;
            if (policies[manifest.Name] is { } policy)
            {
                // The rollout's record goes first; the revision says a rollout governs it, so no node applies it before its turn.
                record = record with { RolledOut = true };
                var started = await rollouts.StartAsync(manifest.Name, record.Version, head, policy, record.Target, origin.Author);
                rollout = RolloutOperations.Describe(started, new Dictionary<string, RolloutStep>());
            }
            record = ack.Stamp(record, head);
            await RecordAsync(record, "pushed", ack);
            made.Add((record, bodies[manifest.Name]));
            pushed.Add(new PushedRevision(record, Unchanged: false, Members.Targeted(cluster, record.Target, fleet), rollout));
        }
        return new PushResponse(pushed.ToArray(), made.Count == 0 ? null : acks.Finish(ack, made));
    }

    /// <summary>
    /// Ends a manifest with a tombstone revision: nodes stop enforcing it; what it applied stays
    /// on the hosts. Compare-and-set like a push: the deleter names the head they saw. Null when
    /// there is no such manifest (or it is already deleted).
    /// </summary>
    public async Task<PushResponse?> DeleteAsync(string name, DeleteRequest request)
    {
        var ack = acks.Begin(request.Ack ?? AckLevel.Majority);
        var head = await ack.ReadAsync(consistency => store.HeadAsync(name, consistency));
        // The same deletion asked again (a client's retry after a first attempt that did land): already done.
        if (head is { Deleted: true } && !request.Force && head.Parent == request.Parent)
            return new PushResponse([new PushedRevision(head, Unchanged: true, Members.Targeted(cluster, head.Target, fleet))], acks.Finish(ack, []));
        if (head is null || head.Deleted) return null;
        if (!request.Force && request.Parent != head.Version.ToString())
            throw new PushConflictException([$"{name}: the head is now {head.Version} by {head.Author} via {head.Origin} at {head.Time:u}, not {request.Parent} as you saw"]);
        RefuseUntrusted([(name, RevisionSignature.DeletionStatement(name, head.Version.ToString()))],
            request.Signature is null ? null : new Dictionary<string, RevisionSignature> { [name] = request.Signature });
        clock.Observe(head.Version);
        var tombstone = ack.Stamp(RevisionRecord.Tombstone(head, clock.Now(), Origin(request.Author, request.Message), request.Signature), head);
        await RecordAsync(tombstone, "deleted", ack);
        return new PushResponse([new PushedRevision(tombstone, Unchanged: false, Members.Targeted(cluster, tombstone.Target, fleet))],
            acks.Finish(ack, [(tombstone, [])]));
    }

    /// <summary>
    /// Makes an old revision's content the head again, as a new revision pushed from this node
    /// (history only grows: the rollback itself can be rolled back). Null when no retained revision matches.
    /// </summary>
    public async Task<PushResponse?> RollbackAsync(string name, string revision, string? author, AckLevel? ack = null)
    {
        var target = await FindAsync(name, revision);
        if (target is null) return null;
        if (target.Deleted) throw new ArgumentException($"{target.Version} is the deletion of {name}: roll back to a revision with content");
        var text = System.Text.Encoding.UTF8.GetString(await loader.BodyAsync(target));
        return await PushAsync(new PushRequest([new ManifestFile($"{name}@{target.Version}", text)],
            $"rollback to {target.Version}", author, Force: true,
            // The old revision's signature covers the same name and content hash, so it still holds.
            Signatures: target.Signature is null ? null : new() { [name] = target.Signature }, Ack: ack));
    }

    /// <summary>
    /// A retained revision named by its full version, a prefix of its version, or a prefix of
    /// its hash (at least 6 characters); null when none matches. Two matches are an error.
    /// </summary>
    public async Task<RevisionRecord?> FindAsync(string name, string revision)
    {
        var history = await store.HistoryAsync(name);
        var exact = history.FirstOrDefault(r => r.Version.ToString() == revision);
        if (exact is not null) return exact;
        var matches = history.Where(r => r.Version.ToString().StartsWith(revision, StringComparison.Ordinal)
            || (revision.Length >= 6 && r.Hash.StartsWith(revision, StringComparison.Ordinal))).ToArray();
        return matches.Length switch
        {
            0 => null,
            1 => matches[0],
            _ => throw new ArgumentException($"'{revision}' matches {matches.Length} revisions of {name}: {string.Join(", ", matches.Select(m => m.Version))}"),
        };
    }

    /// <summary>Puts a manifest's body and attached files into this node's store, for the targets to pull; returns their hashes.</summary>
    public string[] Store(PreparedManifest manifest) =>
        manifest.Attachments.Values.Select(content.Put).Append(content.Put(manifest.Bytes)).ToArray();

    public RevisionOrigin Origin(string? author, string? message) =>
        RevisionOrigin.Of(author, settings.Name, cluster.SelfAddress.ToString(), message);

    /// <summary>A new head in the replicated index and history, in this node's audit trail, and announced.</summary>
    private async Task RecordAsync(RevisionRecord record, string action, Acknowledgement ack)
    {
        await ack.RecordAsync(consistency => store.RecordAsync(record, settings.HistoryKeep, consistency));
        var signer = record.Signature is { } sig ? $"signed by {live.Current.Trust.NameOf(sig.KeyId) ?? "key " + sig.KeyId}" : "unsigned";
        audit.Write(action, record.Manifest, record.Version.ToString(), $"{record.Author} ({signer})", record.Message);
        if (settings.Announce) topics.Tell(new Topics.Publish(Replicated.ChangeTopic, record));
    }

    /// <summary>Refuses the whole change when one of its manifests fails this node's trust list.</summary>
    private void RefuseUntrusted(IEnumerable<(string Manifest, byte[] Statement)> changes, IReadOnlyDictionary<string, RevisionSignature>? signatures)
    {
        var refusals = new List<string>();
        var trust = live.Current.Trust; // one list for the whole change, even if a reload lands meanwhile
        foreach (var (name, statement) in changes)
            if (trust.Refusal(signatures?.GetValueOrDefault(name), statement) is { } why)
                refusals.Add($"{name}: {why}");
        if (refusals.Count > 0) throw new PushDeniedException(refusals);
    }

    /// <summary>A manifest whose rollout is not over takes no new push unless forced (which supersedes, and so aborts, that rollout).</summary>
    private async Task RefuseBusyRollouts(IEnumerable<string> names)
    {
        var busy = new List<string>();
        foreach (var name in names)
            if (await rollouts.BusyAsync(name) is { } why) busy.Add(why);
        if (busy.Count > 0) throw new PushConflictException(busy);
    }

    /// <summary>
    /// Compare-and-set: every manifest the pusher named a parent for must still have that head,
    /// or be this very change already: the same content over the same parent is a client's retry
    /// of a push whose first attempt landed (it is then answered unchanged), not a conflict.
    /// </summary>
    private static void RefuseStaleParents(PushRequest request, IEnumerable<PreparedManifest> manifests, IReadOnlyDictionary<string, RevisionRecord> index)
    {
        var conflicts = new List<string>();
        foreach (var manifest in manifests)
        {
            var name = manifest.Name;
            if (request.Parents is null || !request.Parents.TryGetValue(name, out var seen)) continue;
            index.TryGetValue(name, out var head);
            if (head is { Deleted: true }) head = null;
            var current = head?.Version.ToString() ?? "";
            if (current == seen) continue;
            if (head is not null && head.Hash == manifest.Hash && (head.Parent ?? "") == seen) continue;
            conflicts.Add(head is null
                ? $"{name}: you pushed over {seen}, but the manifest no longer exists"
                : $"{name}: the head is now {head.Version} by {head.Author} via {head.Origin} at {head.Time:u}" +
                  (head.Message.Length > 0 ? $" (\"{head.Message}\")" : "") +
                  $", not {(seen.Length == 0 ? "absent" : seen)} as you saw");
        }
        if (conflicts.Count > 0) throw new PushConflictException(conflicts);
    }
}
