using System.Threading.Channels;
using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;
using Akka.DistributedData;
using Akka.Event;
using Mesh.Node.Api;
using Mesh.Node.Audit;
using Mesh.Node.Configuration;
using Mesh.Node.Content;
using Mesh.Node.Converge;
using Mesh.Node.Membership;
using Mesh.Node.Providers;
using Mesh.Node.Replication;
using Mesh.Node.Security;
using Mesh.Protocol.Api;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Signing;
using Mesh.Protocol.Versioning;
using Mesh.Protocol.Wire;
using PubSub = Akka.Cluster.Tools.PublishSubscribe;

namespace Mesh.Node;

/// <summary>
/// One running Mesh node: the cluster member, its content store, its converger, and the
/// operations the control API offers. A push starts here and reads top to bottom:
/// parse and validate, canonical bytes and hash, store the body, record the revision in the
/// replicated index, announce it.
/// </summary>
public sealed class MeshNode : IAsyncDisposable
{
    private static readonly TimeSpan LocalTimeout = TimeSpan.FromSeconds(5);

    private readonly IActorRef _replicator;
    private readonly IActorRef _mediator;
    private readonly IActorRef _events;

    public NodeSettings Settings { get; }
    public ActorSystem System { get; }
    public Cluster Cluster { get; }
    public ContentStore Content { get; }
    public ContentFetcher Fetcher { get; }
    public HybridClock Clock { get; }
    public NodeIdentity Identity { get; }
    public AuditLog Audit { get; }
    /// <summary>This node's TLS between nodes; null when it is off.</summary>
    public NodeTls? Tls { get; private init; }

    public Connectivity Connectivity { get; } = new(DateTimeOffset.UtcNow);

    private MeshNode(NodeSettings settings, ActorSystem system, NodeKey key)
    {
        Settings = settings;
        System = system;
        Cluster = Cluster.Get(system);
        Identity = new NodeIdentity(settings.Name, settings.Roles.ToHashSet(StringComparer.Ordinal), settings.Labels);
        Clock = new HybridClock(settings.Name);
        Directory.CreateDirectory(settings.Root);
        Content = new ContentStore(settings.DataDir);
        Audit = new AuditLog(settings.DataDir, settings.Name);
        Fetcher = new ContentFetcher(system, Content, settings.ChunkSize, settings.FetchTimeout, settings.MaxBlobSize);

        _replicator = DistributedData.Get(system).Replicator;
        _mediator = PubSub.DistributedPubSub.Get(system).Mediator;
        system.ActorOf(ContentServer.Props(Content, ContentServer.MaxChunk), ContentServer.Name);
        _events = system.ActorOf(Akka.Actor.Props.Create(() => new EventHub()), EventHub.Name);
        var context = new ApplyContext(settings.Root)
        {
            Facts = NodeFacts.Gather(Identity),
            Content = Content,
            BackupDir = Path.Combine(settings.DataDir, "backups"),
            BackupCount = settings.Backups,
            Key = key,
        };
        var setup = new ConvergerSetup(
            Identity, context, Fetcher, Audit, ApplyEngine.Default(), Clock, settings.Announce,
            RetryInterval: settings.FetchTimeout, settings.RecheckInterval, settings.RecheckJitter, settings.WatchPaths, settings.Trust);
        system.ActorOf(Converger.Props(setup), Converger.Name);
        system.ActorOf(Akka.Actor.Props.Create(() => new AuditServer(Audit, settings.Name)), AuditServer.Name);
        system.ActorOf(Planner.Props(setup), Planner.Name);
        var collection = system.Scheduler.Advanced.ScheduleRepeatedlyCancelable(settings.GcInterval, settings.GcInterval,
            () => CollectGarbageAsync(settings.GcGrace).ContinueWith(t => system.Log.Warning("blob collection failed: {0}", t.Exception?.GetBaseException().Message),
                TaskContinuationOptions.OnlyOnFaulted));
        // The scheduler runs what is still pending when the system stops: cancel it before then.
        CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseBeforeServiceUnbind, "stop-blob-collection", () =>
        {
            collection.Cancel();
            return Task.FromResult(Akka.Done.Instance);
        });
        system.ActorOf(ConnectivityMonitor.Props(Connectivity, standalone: settings.Seeds.Length == 0), ConnectivityMonitor.Name);
        system.ActorOf(PauseWatch.Props(system.Settings.Config.GetTimeSpan("akka.cluster.split-brain-resolver.stable-after", TimeSpan.FromSeconds(20))),
            PauseWatch.Name);
    }

    /// <summary>Starts a node from a full configuration (the <c>mesh</c> section and Akka's).</summary>
    public static MeshNode Start(Config config)
    {
        var settings = NodeSettings.From(config);
        Directory.CreateDirectory(settings.DataDir);
        var tls = NodeTls.Load(settings.Tls);
        var key = NodeKey.LoadOrCreate(settings.DataDir);
        var system = ActorSystem.Create(NodeSettings.ActorSystemName, NodeTls.Setup(tls, NodeConfig.ForAkka(settings, config, key.PublicKey)));
        var node = new MeshNode(settings, system, key) { Tls = tls };
        OwnRevisions.Reclaim(node._replicator, node.Cluster.SelfUniqueAddress, settings.Name, Path.Combine(settings.DataDir, "ddata"), settings.HistoryKeep);
        // Joining in code rather than through seed-nodes lets a node on port 0 seed itself.
        if (settings.Seeds.Length == 0) node.Cluster.Join(node.Cluster.SelfAddress);
        else node.Cluster.JoinSeedNodes(settings.Seeds.Select(Address.Parse));
        return node;
    }

    // ---- push -------------------------------------------------------------------------------

    /// <summary>
    /// Validates every file first: one bad file refuses the whole push and nothing is stored.
    /// Then the signatures: with a trust list every manifest must be signed by a trusted key,
    /// and any signature given must match the content whatever the policy. A manifest whose
    /// canonical bytes equal its head's is not a new revision.
    /// </summary>
    public async Task<PushResponse> PushAsync(PushRequest request)
    {
        var parsed = ParseAll(request.Manifests);
        RefuseUntrusted(parsed.Select(p => (p.Manifest.Name, RevisionSignature.ContentStatement(p.Manifest.Name, CanonicalForm.Hash(p.Bytes)))), request.Signatures);
        var index = await IndexAsync();
        if (!request.Force) RefuseStaleParents(request, parsed.Select(p => p.Manifest.Name), index);
        var pushed = new List<PushedRevision>();
        foreach (var (manifest, bytes, attachments) in parsed)
        {
            var hash = CanonicalForm.Hash(bytes);
            index.TryGetValue(manifest.Name, out var head);
            if (head is { Deleted: false } && head.Hash == hash)
            {
                pushed.Add(new PushedRevision(head, Unchanged: true, Members.Targeted(Cluster, head.Target)));
                continue;
            }

            foreach (var blob in attachments) Content.Put(blob);
            Content.Put(bytes);
            // A node whose wall clock lags must still stamp a version above the head it replaces.
            if (head is not null) Clock.Observe(head.Version);
            var record = new RevisionRecord(
                Manifest: manifest.Name,
                Version: Clock.Now(),
                Hash: hash,
                Size: bytes.Length,
                Author: string.IsNullOrWhiteSpace(request.Author) ? "unknown" : request.Author,
                Origin: Settings.Name,
                OriginAddress: Cluster.SelfAddress.ToString(),
                Time: DateTimeOffset.UtcNow,
                Message: request.Message ?? "",
                Target: manifest.Target,
                Parent: head?.Version.ToString(),
                Signature: request.Signatures?.GetValueOrDefault(manifest.Name));
            await RecordAsync(record, "pushed");
            pushed.Add(new PushedRevision(record, Unchanged: false, Members.Targeted(Cluster, record.Target)));
        }
        return new PushResponse(pushed.ToArray());
    }

    /// <summary>A new head in the replicated index and history, in this node's audit trail, and announced.</summary>
    private async Task RecordAsync(RevisionRecord record, string action)
    {
        await _replicator.Ask<IUpdateResponse>(Dsl.Update(Replicated.IndexOf(record.Manifest), LWWDictionary<string, RevisionRecord>.Empty, WriteLocal.Instance,
            d => d.SetItem(Cluster.SelfUniqueAddress, record.Manifest, record, Replicated.RevisionClock)), LocalTimeout);
        await RecordHistoryAsync(record);
        var signer = record.Signature is { } sig ? $"signed by {Settings.Trust.NameOf(sig.KeyId) ?? "key " + sig.KeyId}" : "unsigned";
        Audit.Write(action, record.Manifest, record.Version.ToString(), $"{record.Author} ({signer})", record.Message);
        if (Settings.Announce) _mediator.Tell(new PubSub.Publish(Replicated.ChangeTopic, record));
    }

    /// <summary>Refuses the whole change when one of its manifests fails this node's trust list.</summary>
    private void RefuseUntrusted(IEnumerable<(string Manifest, byte[] Statement)> changes, IReadOnlyDictionary<string, RevisionSignature>? signatures)
    {
        var refusals = new List<string>();
        foreach (var (name, statement) in changes)
            if (Settings.Trust.Refusal(signatures?.GetValueOrDefault(name), statement) is { } why)
                refusals.Add($"{name}: {why}");
        if (refusals.Count > 0) throw new PushDeniedException(refusals);
    }

    /// <summary>
    /// Ends a manifest with a tombstone revision: nodes stop enforcing it; what it applied stays
    /// on the hosts. Compare-and-set like a push: the deleter names the head they saw. Null when
    /// there is no such manifest (or it is already deleted).
    /// </summary>
    public async Task<PushedRevision?> DeleteAsync(string name, DeleteRequest request)
    {
        var index = await IndexAsync();
        if (!index.TryGetValue(name, out var head) || head.Deleted) return null;
        if (!request.Force && request.Parent != head.Version.ToString())
            throw new PushConflictException([$"{name}: the head is now {head.Version} by {head.Author} via {head.Origin} at {head.Time:u}, not {request.Parent} as you saw"]);
        RefuseUntrusted([(name, RevisionSignature.DeletionStatement(name, head.Version.ToString()))],
            request.Signature is null ? null : new Dictionary<string, RevisionSignature> { [name] = request.Signature });
        Clock.Observe(head.Version);
        var tombstone = new RevisionRecord(
            Manifest: name,
            Version: Clock.Now(),
            Hash: "",
            Size: 0,
            Author: string.IsNullOrWhiteSpace(request.Author) ? "unknown" : request.Author,
            Origin: Settings.Name,
            OriginAddress: Cluster.SelfAddress.ToString(),
            Time: DateTimeOffset.UtcNow,
            Message: request.Message ?? "",
            Target: head.Target,
            Parent: head.Version.ToString(),
            Signature: request.Signature,
            Deleted: true);
        await RecordAsync(tombstone, "deleted");
        return new PushedRevision(tombstone, Unchanged: false, Members.Targeted(Cluster, tombstone.Target));
    }

    /// <summary>Adds a revision to its manifest's history and drops the oldest beyond the retention count.</summary>
    private async Task RecordHistoryAsync(RevisionRecord record)
    {
        var keep = Settings.HistoryKeep;
        await _replicator.Ask<IUpdateResponse>(Dsl.Update(Replicated.HistoryOf(record.Manifest), LWWDictionary<string, RevisionRecord>.Empty, WriteLocal.Instance,
            history =>
            {
                history = history.SetItem(Cluster.SelfUniqueAddress, Replicated.HistoryEntry(record), record, Replicated.RevisionClock);
                foreach (var old in history.Entries.Where(e => e.Value.Manifest == record.Manifest)
                             .OrderByDescending(e => e.Value.Version).Skip(keep).Select(e => e.Key).ToArray())
                    history = history.Remove(Cluster.SelfUniqueAddress, old);
                return history;
            }), LocalTimeout);
    }

    /// <summary>Every retained revision of a manifest, newest first.</summary>
    public async Task<IReadOnlyList<RevisionRecord>> HistoryAsync(string name)
    {
        var shard = await ReadLocalAsync(Replicated.HistoryOf(name));
        return shard.Values.Where(r => r.Manifest == name).OrderByDescending(r => r.Version).ToArray();
    }

    /// <summary>
    /// A retained revision named by its full version, a prefix of its version, or a prefix of
    /// its hash (at least 6 characters); null when none matches. Two matches are an error.
    /// </summary>
    public async Task<RevisionRecord?> FindRevisionAsync(string name, string revision)
    {
        var history = await HistoryAsync(name);
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

    /// <summary>
    /// Makes an old revision's content the head again, as a new revision pushed from this node
    /// (history only grows: the rollback itself can be rolled back).
    /// </summary>
    public async Task<PushResponse?> RollbackAsync(string name, string revision, string? author)
    {
        var target = await FindRevisionAsync(name, revision);
        if (target is null) return null;
        if (target.Deleted) throw new ArgumentException($"{target.Version} is the deletion of {name}: roll back to a revision with content");
        var body = await Fetcher.FetchAsync(target.Hash, PeersFor(target));
        var text = global::System.Text.Encoding.UTF8.GetString(body);
        return await PushAsync(new PushRequest([new ManifestFile($"{name}@{target.Version}", text)],
            $"rollback to {target.Version}", author, Force: true,
            // The old revision's signature covers the same name and content hash, so it still holds.
            Signatures: target.Signature is null ? null : new() { [name] = target.Signature }));
    }

    /// <summary>Peers to pull a body from: the revision's origin first, then every other member.</summary>
    private Address[] PeersFor(RevisionRecord revision) =>
        Members.Active(Cluster).Select(m => m.Address).Where(a => !a.Equals(Cluster.SelfAddress))
            .OrderBy(a => a.ToString() == revision.OriginAddress ? 0 : 1).ToArray();

    /// <summary>Compare-and-set: every manifest the pusher named a parent for must still have that head.</summary>
    private static void RefuseStaleParents(PushRequest request, IEnumerable<string> names, IReadOnlyDictionary<string, RevisionRecord> index)
    {
        var conflicts = new List<string>();
        foreach (var name in names)
        {
            if (request.Parents is null || !request.Parents.TryGetValue(name, out var seen)) continue;
            index.TryGetValue(name, out var head);
            if (head is { Deleted: true }) head = null;
            var current = head?.Version.ToString() ?? "";
            if (current == seen) continue;
            conflicts.Add(head is null
                ? $"{name}: you pushed over {seen}, but the manifest no longer exists"
                : $"{name}: the head is now {head.Version} by {head.Author} via {head.Origin} at {head.Time:u}" +
                  (head.Message.Length > 0 ? $" (\"{head.Message}\")" : "") +
                  $", not {(seen.Length == 0 ? "absent" : seen)} as you saw");
        }
        if (conflicts.Count > 0) throw new PushConflictException(conflicts);
    }

    /// <summary>
    /// The dry run of a push: every targeted node plans the manifests against its own host
    /// and says what it would change, with diffs. Nothing is recorded in the index and no host
    /// changes; the bodies are put in this node's content store so the targets can pull them.
    /// </summary>
    public async Task<PlanResponse> PlanAsync(PushRequest request, TimeSpan timeout)
    {
        var planned = new List<PlannedManifest>();
        foreach (var (manifest, bytes, attachments) in ParseAll(request.Manifests))
        {
            foreach (var blob in attachments) Content.Put(blob);
            var hash = Content.Put(bytes);
            var revision = new RevisionRecord(manifest.Name, Clock.Now(), hash, bytes.Length, request.Author ?? "unknown", Settings.Name,
                Cluster.SelfAddress.ToString(), DateTimeOffset.UtcNow, "dry run", manifest.Target, null);
            var targets = Members.Active(Cluster).Where(m => manifest.Target.Matches(NodeRoles.Decode(m))).ToArray();
            var replies = await Task.WhenAll(targets.Select(async m =>
            {
                var planner = System.ActorSelection(new RootActorPath(m.Address) / "user" / Planner.Name);
                try
                {
                    return (NodeRoles.Decode(m).Name, Plan: await planner.Ask<ApplyReport>(new PlanRequest(revision), timeout));
                }
                catch (AskTimeoutException)
                {
                    return (NodeRoles.Decode(m).Name, Plan: (ApplyReport?)null);
                }
            }));
            planned.Add(new PlannedManifest(manifest.Name, hash,
                replies.Select(r => r.Name).Order(StringComparer.Ordinal).ToArray(),
                replies.Select(r => r.Plan).OfType<ApplyReport>().OrderBy(p => p.Node, StringComparer.Ordinal).ToArray(),
                replies.Where(r => r.Plan is null).Select(r => r.Name).Order(StringComparer.Ordinal).ToArray()));
        }
        return new PlanResponse(planned.ToArray());
    }

    /// <summary>
    /// Parses every file and resolves the files its sources name. One bad file refuses the
    /// whole push; nothing is stored before everything has parsed.
    /// </summary>
    private static List<(Manifest Manifest, byte[] Bytes, byte[][] Attachments)> ParseAll(IEnumerable<ManifestFile> files)
    {
        var errors = new List<ManifestError>();
        var parsed = new List<(Manifest, byte[], byte[][])>();
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            var attached = (file.Attachments ?? []).ToDictionary(a => a.Key, a => (Hash: CanonicalForm.Hash(a.Value), Bytes: a.Value), StringComparer.Ordinal);
            try
            {
                var manifest = ManifestParser.Parse(file.Text, file.File, name => attached.TryGetValue(name, out var a) ? a.Hash : null);
                if (names.TryGetValue(manifest.Name, out var other))
                    errors.Add(new ManifestError(file.File, 0, 0, "manifest", $"'{manifest.Name}' is also defined in {other}"));
                names[manifest.Name] = file.File;
                parsed.Add((manifest, CanonicalForm.ToBytes(manifest), attached.Values.Select(a => a.Bytes).ToArray()));
            }
            catch (ManifestException e)
            {
                errors.AddRange(e.Errors);
            }
        }
        if (errors.Count > 0) throw new ManifestException(errors);
        if (parsed.Count == 0) throw new ManifestException([new ManifestError("push", 0, 0, "", "no manifest given")]);
        return parsed;
    }

    // ---- blob collection -----------------------------------------------------------------------

    /// <summary>Blob → the source blobs its manifest names; bodies never change, so this is never stale.</summary>
    private readonly global::System.Collections.Concurrent.ConcurrentDictionary<string, string[]> _sourcesOf = new();

    /// <summary>
    /// Deletes the blobs no retained revision references: bodies of revisions that fell out of
    /// history, their file sources, dry-run bodies. What a revision still in history, a head, or
    /// this node's last report names is kept, so history, get --revision and rollback keep working.
    /// </summary>
    public async Task<(int Blobs, long Bytes)> CollectGarbageAsync(TimeSpan grace)
    {
        var keep = new HashSet<string>(StringComparer.Ordinal);
        var histories = await Task.WhenAll(Enumerable.Range(0, Replicated.IndexShards).Select(i => ReadLocalAsync(Replicated.HistoryShard(i))));
        var revisions = histories.SelectMany(h => h.Values).Concat((await IndexAsync()).Values).Where(r => !r.Deleted).Select(r => r.Hash);
        var reported = (await ReportsOfAsync(Settings.Name)).Values.Select(r => r.Hash);
        foreach (var hash in revisions.Concat(reported).Where(ContentStore.IsHash))
        {
            keep.Add(hash);
            keep.UnionWith(_sourcesOf.GetOrAdd(hash, SourcesOf));
        }
        var (blobs, bytes) = Content.Collect(keep, grace);
        if (blobs > 0)
        {
            System.Log.Info("collected {0} unreferenced blob(s), {1} bytes", blobs, bytes);
            Audit.Write("collected", "", "", Settings.Name, $"{blobs} unreferenced blob(s), {bytes} bytes");
        }
        return (blobs, bytes);
    }

    private string[] SourcesOf(string hash)
    {
        if (Content.Get(hash) is not { } body) return [];
        try
        {
            return CanonicalForm.FromBytes(body, hash).Resources.OfType<FileResource>().Select(f => f.SourceHash).OfType<string>().ToArray();
        }
        catch (ManifestException)
        {
            return []; // a source blob, not a manifest
        }
    }

    // ---- queries ----------------------------------------------------------------------------

    /// <summary>Manifest name → head revision, as this node knows it (all shards).</summary>
    public async Task<IReadOnlyDictionary<string, RevisionRecord>> IndexAsync()
    {
        var shards = await Task.WhenAll(Replicated.Index.Select(ReadLocalAsync));
        return shards.SelectMany(s => s).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
    }

    /// <summary>Manifest name → the latest report of one node, as this node knows it.</summary>
    public Task<IReadOnlyDictionary<string, ApplyReport>> ReportsOfAsync(string node) => ReadLocalAsync(Replicated.StatusOf(node));

    private async Task<IReadOnlyDictionary<string, T>> ReadLocalAsync<T>(LWWDictionaryKey<string, T> key)
    {
        var response = await _replicator.Ask<IGetResponse>(Dsl.Get(key, ReadLocal.Instance), LocalTimeout);
        return response is GetSuccess success
            ? success.Get(key).Entries
            : new Dictionary<string, T>();
    }

    public IReadOnlyList<MemberInfo> MemberList() =>
        Cluster.State.Members.Select(m => Members.Describe(m, Cluster)).OrderBy(m => m.Name, StringComparer.Ordinal).ToArray();

    public string[] Targets(TargetSpec target) => Members.Targeted(Cluster, target);

    /// <summary>A revision of a manifest (the head by default) with its canonical body, pulled from a peer if this node lacks it.</summary>
    public async Task<ManifestDetail?> GetAsync(string name, string? revision = null)
    {
        RevisionRecord? record;
        if (revision is null) (await IndexAsync()).TryGetValue(name, out record);
        else record = await FindRevisionAsync(name, revision);
        if (record is null || record.Deleted) return null;
        var body = await Fetcher.FetchAsync(record.Hash, PeersFor(record));
        return new ManifestDetail(record, global::System.Text.Encoding.UTF8.GetString(body));
    }

    /// <summary>
    /// Where every targeted member stands with every manifest: applied (ok or failed) at the
    /// head revision, or pending (no report yet for the head); whether this node is offline;
    /// and the writes concurrent pushes lost that nobody has settled yet.
    /// </summary>
    public async Task<StatusReport> StatusAsync(string? manifest)
    {
        var index = await IndexAsync();
        var connectivity = Connectivity.Current;
        return new StatusReport(Settings.Name, connectivity.Offline, connectivity.Since, connectivity.Reason,
            (await ManifestStatusAsync(index, manifest)).ToArray(), await LostWritesAsync(index, manifest));
    }

    private async Task<IReadOnlyList<NodeStatus>> ManifestStatusAsync(IReadOnlyDictionary<string, RevisionRecord> index, string? manifest)
    {
        var reports = new Dictionary<string, IReadOnlyDictionary<string, ApplyReport>>(StringComparer.Ordinal);
        var result = new List<NodeStatus>();
        foreach (var head in index.Values.Where(h => !h.Deleted && (manifest is null || h.Manifest == manifest)).OrderBy(h => h.Manifest, StringComparer.Ordinal))
        {
            foreach (var node in Targets(head.Target))
            {
                if (!reports.TryGetValue(node, out var ofNode)) reports[node] = ofNode = await ReportsOfAsync(node);
                ofNode.TryGetValue(head.Manifest, out var report);
                var state = report is null || report.Version.CompareTo(head.Version) != 0
                    ? "pending"
                    : report.Outcome switch { ApplyOutcome.Ok => "ok", ApplyOutcome.Rejected => "rejected", _ => "failed" };
                result.Add(new NodeStatus(node, head.Manifest, state, report, head));
            }
        }
        return result;
    }

    /// <summary>
    /// Revisions that a concurrent push overwrote without seeing them (<see cref="Lineage"/>),
    /// for as long as the revision that overwrote them is still the head: a push over it (a
    /// rollback to the lost revision, or a change that takes it in) settles the loss.
    /// </summary>
    private async Task<LostWrite[]> LostWritesAsync(IReadOnlyDictionary<string, RevisionRecord> index, string? manifest)
    {
        var heads = index.Values.Where(h => manifest is null || h.Manifest == manifest).ToArray();
        var shards = await Task.WhenAll(heads.Select(h => Replicated.HistoryOf(h.Manifest)).Distinct().Select(ReadLocalAsync));
        var history = shards.SelectMany(s => s.Values).ToLookup(r => r.Manifest, StringComparer.Ordinal);
        return heads.OrderBy(h => h.Manifest, StringComparer.Ordinal)
            .SelectMany(head => Lineage.LostRevisions(history[head.Manifest], head)
                .Where(loss => loss.Winner.Version.Equals(head.Version))
                .Select(loss => new LostWrite(head.Manifest, loss.Lost, loss.Winner)))
            .ToArray();
    }

    /// <summary>
    /// Asks the named nodes (all active members when none is named) to re-check what they
    /// enforce now. Their reports follow as usual; drift they repair is flagged.
    /// </summary>
    public async Task<ConvergeAccepted[]> ConvergeAsync(string? node)
    {
        var members = Members.Active(Cluster).Where(m => node is null || NodeRoles.Decode(m).Name == node).ToArray();
        if (members.Length == 0) throw new KeyNotFoundException($"no active member named '{node}'");
        return await Task.WhenAll(members.Select(m =>
            System.ActorSelection(new RootActorPath(m.Address) / "user" / Converger.Name).Ask<ConvergeAccepted>(new ConvergeNow(), LocalTimeout)));
    }

    /// <summary>The audit trails of the named node (every active member when none is named), merged by time.</summary>
    public async Task<AuditEntry[]> AuditAsync(string? node, DateTimeOffset? since, int limit)
    {
        var members = Members.Active(Cluster).Where(m => node is null || NodeRoles.Decode(m).Name == node).ToArray();
        if (members.Length == 0) throw new KeyNotFoundException($"no active member named '{node}'");
        var answers = await Task.WhenAll(members.Select(async m =>
        {
            try
            {
                return await System.ActorSelection(new RootActorPath(m.Address) / "user" / AuditServer.Name)
                    .Ask<AuditEntries>(new AuditQuery(since, limit), LocalTimeout);
            }
            catch (AskTimeoutException)
            {
                return new AuditEntries(NodeRoles.Decode(m).Name,
                    [new AuditEntry(DateTimeOffset.UtcNow, NodeRoles.Decode(m).Name, "unreachable", "", "", "", "the node did not answer")]);
            }
        }));
        return answers.SelectMany(a => a.Entries).OrderBy(e => e.Time).TakeLast(limit).ToArray();
    }

    /// <summary>A live feed of events until <paramref name="cancel"/> fires.</summary>
    public ChannelReader<MeshEvent> Listen(CancellationToken cancel)
    {
        var channel = Channel.CreateBounded<MeshEvent>(new BoundedChannelOptions(4096) { FullMode = BoundedChannelFullMode.DropOldest });
        _events.Tell(new EventHub.Listen(channel.Writer));
        cancel.Register(() =>
        {
            _events.Tell(new EventHub.Unlisten(channel.Writer));
            channel.Writer.TryComplete();
        });
        return channel.Reader;
    }

    /// <summary>Leaves the cluster gracefully and stops the actor system.</summary>
    public async ValueTask DisposeAsync() =>
        await CoordinatedShutdown.Get(System).Run(CoordinatedShutdown.ClrExitReason.Instance);
}
