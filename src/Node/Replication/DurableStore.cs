using System.Collections.Immutable;
using Akka.Actor;
using Akka.Configuration;
using Akka.DistributedData.Durable;
using Akka.Event;
using Akka.Serialization;

namespace Mesh.Node.Replication;

/// <summary>
/// Keeps the replicated index and status on disk, so a node that restarts (or the whole
/// cluster) starts from what it knew, and a node with no peer enforces its last known state.
/// One file per DData key under <c>&lt;data-dir&gt;/ddata/</c>, each written to a temporary file and
/// renamed, then one file-system flush for the batch before the writes are acknowledged: a
/// crash leaves the old value or the new one. (Akka's LMDB store is
/// not usable on this platform; the protocol is the replicator's durable-store protocol.)
/// A file that cannot be read at start (truncated, garbage) is logged, set aside as
/// <c>&lt;name&gt;.corrupt-&lt;time&gt;</c> and left out: the node starts without that key and gets
/// it back from its peers by gossip. A write that finds the disk full leaves no temporary
/// behind, fails the batch (the replicator answers <c>StoreFailure</c>: the change is refused)
/// and says which file, see <see cref="LastFailure"/>.
///
/// Two kinds of write reach it. One the replicator waits for (a change made on this node, or
/// a peer's write this node must confirm: what an acknowledged push is made of) is written and
/// flushed at once, before the answer. One it does not wait for (what this node learned from a
/// peer by gossip or delta: mostly the other nodes' reports) is written behind, within
/// <c>mesh.write-behind</c> (1 s) and together with everything else that arrived meanwhile, so a
/// mesh of n nodes does not flush the disk n times for every push. A crash loses at most that
/// window of what peers told this node; they tell it again.
/// </summary>
public sealed class DurableStore : ReceiveActor, IWithTimers
{
    private readonly string _dir;
    private readonly Serializer _serializer;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<string, DurableDataEnvelope> _pending = new(StringComparer.Ordinal);
    private readonly List<StoreReply> _replies = [];
    private readonly TimeSpan _writeBehind;
    private bool _flushQueued;

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Marks a file set aside at start; never loaded as a key.</summary>
    public const string CorruptMark = ".corrupt-";

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<Address, string> Failures = new();

    /// <summary>
    /// Why the last write of the node at <paramref name="node"/> failed (e.g. "no space left on
    /// device writing …"), or null: the replicator's <c>StoreFailure</c> carries no reason, so the
    /// one who asked for the write reads it here to say why the change was refused.
    /// </summary>
    public static string? LastFailure(Address node) => Failures.TryGetValue(node, out var why) ? why : null;

    public DurableStore(Config config)
    {
        _dir = config.GetString("mesh.dir", "");
        if (string.IsNullOrEmpty(_dir)) throw new ConfigurationException("akka.cluster.distributed-data.durable.mesh.dir is not set");
        Directory.CreateDirectory(_dir);
        _writeBehind = config.GetTimeSpan("mesh.write-behind", TimeSpan.FromSeconds(1));
        _serializer = Context.System.Serialization.FindSerializerForType(typeof(DurableDataEnvelope));

        Receive<LoadAll>(_ => LoadAll());
        Receive<Store>(Store);
        Receive<FlushPending>(_ => Flush());
    }

    private void LoadAll()
    {
        var data = ImmutableDictionary.CreateBuilder<string, DurableDataEnvelope>();
        foreach (var file in Directory.EnumerateFiles(_dir).Where(f => !Path.GetFileName(f).StartsWith('.') && !f.Contains(CorruptMark, StringComparison.Ordinal)).ToArray())
        {
            var key = Uri.UnescapeDataString(Path.GetFileName(file));
            try
            {
                var bytes = File.ReadAllBytes(file);
                var manifestLength = BitConverter.ToInt32(bytes, 0);
                var manifest = System.Text.Encoding.UTF8.GetString(bytes, 4, manifestLength);
                var payload = bytes.AsSpan(4 + manifestLength).ToArray();
                var envelope = _serializer is SerializerWithStringManifest withManifest
                    ? (DurableDataEnvelope)withManifest.FromBinary(payload, manifest)
                    : (DurableDataEnvelope)_serializer.FromBinary(payload, typeof(DurableDataEnvelope));
                data[key] = envelope;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // One unreadable key must not cost the others, nor the start: peers gossip it back.
                // Whatever the deserializer throws on garbage is a damaged file, not a reason to stop.
                SetAside(file, key, e);
            }
        }
        if (data.Count > 0) Sender.Tell(new LoadData(data.ToImmutable()));
        Sender.Tell(LoadAllCompleted.Instance);
    }

    private void SetAside(string file, string key, Exception why)
    {
        var aside = $"{file}{CorruptMark}{DateTime.UtcNow:yyyyMMdd'T'HHmmss'Z'}";
        try
        {
            File.Move(file, aside, overwrite: true);
        }
        catch (IOException e)
        {
            aside = $"nowhere ({e.Message})";
        }
        _log.Warning("durable store: {0} (key {1}) is damaged and was set aside as {2}; starting without it, peers will gossip it back: {3}: {4}",
            file, key, aside, why.GetType().Name, why.Message);
    }

    /// <summary>
    /// Queues a write. One the replicator waits for is flushed after the messages already
    /// queued: each key written once, the file system flushed once for all of them, so a burst
    /// of updates (a push touches the index, the history and the status) costs one disk flush
    /// and adds no delay. One it does not wait for waits for that flush or the write-behind timer.
    /// </summary>
    private void Store(Store store)
    {
        _pending[store.Key] = store.Data;
        if (store.Reply is null)
        {
            if (!_flushQueued && !Timers.IsTimerActive(nameof(FlushPending)))
                Timers.StartSingleTimer(nameof(FlushPending), FlushPending.Instance, _writeBehind);
            return;
        }
        _replies.Add(store.Reply);
        if (_flushQueued) return;
        _flushQueued = true;
        Self.Tell(FlushPending.Instance);
    }

    /// <summary>What was written behind is written before the node stops (a graceful stop; a crash loses it).</summary>
    protected override void PostStop()
    {
        if (_pending.Count > 0) Flush();
    }

    private void Flush()
    {
        _flushQueued = false;
        Timers.Cancel(nameof(FlushPending));
        if (_pending.Count == 0) return;
        var ok = true;
        string? failure = null;
        foreach (var (key, data) in _pending)
        {
            var path = Path.Combine(_dir, Uri.EscapeDataString(key));
            var temp = Path.Combine(_dir, $".{Uri.EscapeDataString(key)}.{Guid.NewGuid():N}");
            try
            {
                var manifest = System.Text.Encoding.UTF8.GetBytes(Akka.Serialization.Serialization.ManifestFor(_serializer, data));
                var payload = _serializer.ToBinary(data);
                using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
                {
                    file.Write(BitConverter.GetBytes(manifest.Length));
                    file.Write(manifest);
                    file.Write(payload);
                }
                File.Move(temp, path, overwrite: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                File.Delete(temp);
                var why = DiskFullException.IsDiskFull(e) ? $"no space left on device writing {path}" : $"cannot write {path}: {e.Message}";
                failure ??= why;
                _log.Error("durable store: {0}; the change is refused", why);
                ok = false;
            }
        }
        try
        {
            Providers.Posix.SyncFileSystem(_dir);
        }
        catch (IOException e)
        {
            _log.Error(e, "durable store: cannot flush {0}", _dir);
            failure ??= $"cannot flush {_dir}: {e.Message}";
            ok = false;
        }
        var self = ((ExtendedActorSystem)Context.System).Provider.DefaultAddress;
        if (failure is null) Failures.TryRemove(self, out _);
        else Failures[self] = failure;
        foreach (var reply in _replies) reply.ReplyTo.Tell(ok ? reply.SuccessMessage : reply.FailureMessage);
        _pending.Clear();
        _replies.Clear();
    }

    private sealed class FlushPending
    {
        public static readonly FlushPending Instance = new();
    }
}
