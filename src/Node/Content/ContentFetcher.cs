using Akka.Actor;
using Mesh.Node.Observability;
using Mesh.Protocol;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Content;

/// <summary>
/// Pulls a blob by hash from peers, in chunks small enough for a remoting frame, a few in
/// flight at once. When a peer does not have the blob, dies or stalls, the transfer resumes
/// at the same offset from the next peer. The whole blob is checked against its hash before
/// it is stored. While a pull runs, the bytes already in can be served on
/// (<see cref="PartialChunkAsync"/>): a node below this one in a change's relay tree pulls from
/// it at the same time as it pulls from its own source.
/// </summary>
public sealed class ContentFetcher(ActorSystem system, ContentStore store, int chunkSize, TimeSpan chunkTimeout, long maxBlobSize, MeshMetrics metrics)
{
    private const int Window = 4;

    /// <summary>The pulls running now, by hash (the latest one of a hash, when two run at once).</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Transfer> _transfers = new(StringComparer.Ordinal);

    /// <summary>Whether this node is pulling the blob now.</summary>
    public bool IsPulling(string hash) => _transfers.ContainsKey(hash);

    /// <summary>
    /// The chunk at <paramref name="offset"/> of a blob this node is still pulling, once its bytes
    /// are in (whole, or to the blob's end: the puller asks a window of chunks at fixed offsets);
    /// null when this node is not pulling it, the pull ended (look in the store), or the bytes did
    /// not come within <paramref name="wait"/>. The bytes are not checked yet: the asker checks the
    /// whole blob against its hash, as it does whatever it pulls.
    /// </summary>
    public async Task<ContentChunk?> PartialChunkAsync(string hash, long offset, int length, TimeSpan wait)
    {
        var deadline = DateTime.UtcNow + wait;
        while (_transfers.TryGetValue(hash, out var transfer))
        {
            var (buffer, filled, next) = transfer.Now();
            if (buffer is not null && offset >= 0 && offset < buffer.Length && filled >= Math.Min(buffer.Length, offset + length))
            {
                var take = (int)Math.Min(length, buffer.Length - offset);
                return new ContentChunk(hash, offset, buffer.Length, buffer.AsSpan((int)offset, take).ToArray());
            }
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) return null;
            await Task.WhenAny(next, Task.Delay(left));
        }
        return null;
    }

    /// <summary>Until this node pulls or holds the blob; false when neither happened within <paramref name="wait"/>.</summary>
    public async Task<bool> StartedAsync(string hash, TimeSpan wait)
    {
        var deadline = DateTime.UtcNow + wait;
        while (!IsPulling(hash) && !store.Contains(hash))
        {
            if (DateTime.UtcNow >= deadline) return false;
            await Task.Delay(10);
        }
        return true;
    }

    /// <param name="expectFirst">the first peer is getting the blob itself (the member above this one in a relay
    /// tree): it is asked to wait for its own pull rather than answer at once that it lacks the blob</param>
    public async Task<byte[]> FetchAsync(string hash, IReadOnlyList<Address> peers, CancellationToken cancel = default, bool expectFirst = false)
    {
        if (store.Get(hash) is { } local) return local;
        var transfer = new Transfer();
        _transfers[hash] = transfer;
        try
        {
            return await PullAsync(hash, peers, transfer, expectFirst, cancel);
        }
        finally
        {
            _transfers.TryRemove(KeyValuePair.Create(hash, transfer));
            transfer.End();
        }
    }

    private async Task<byte[]> PullAsync(string hash, IReadOnlyList<Address> peers, Transfer transfer, bool expectFirst, CancellationToken cancel)
    {
        var failures = new List<PeerFailure>();
        byte[]? buffer = null;
        long offset = 0;
        foreach (var (peer, index) in peers.Select((p, i) => (p, i)))
        {
            var server = system.ActorSelection(new RootActorPath(peer) / "user" / ContentServer.Name);
            var expected = expectFirst && index == 0;
            try
            {
                while (buffer is null || offset < buffer.Length)
                {
                    cancel.ThrowIfCancellationRequested();
                    var asks = Enumerable.Range(0, buffer is null ? 1 : Window)
                        .Select(i => offset + (long)i * chunkSize)
                        .TakeWhile(o => buffer is null || o < buffer.Length)
                        .Select(o => server.Ask<object>(new FetchChunk(hash, o, chunkSize, expected), chunkTimeout, cancel))
                        .ToArray();
                    foreach (var reply in await Task.WhenAll(asks))
                    {
                        if (reply is ContentMissing) throw new PeerLacksBlob();
                        if (reply is not ContentChunk chunk || chunk.Hash != hash || chunk.Offset != offset)
                            throw new InvalidDataException($"unexpected reply {reply.GetType().Name}");
                        if (buffer is null)
                        {
                            if (chunk.TotalSize > maxBlobSize)
                                throw new InvalidDataException($"blob of {chunk.TotalSize} bytes is over the limit of {maxBlobSize}");
                            buffer = new byte[chunk.TotalSize];
                            transfer.Started(buffer);
                        }
                        else if (chunk.TotalSize != buffer.Length)
                            throw new InvalidDataException("peer reports a different size for the same hash");
                        if (chunk.Data.Length == 0 && offset < buffer.Length) throw new InvalidDataException("empty chunk");
                        chunk.Data.CopyTo(buffer, offset);
                        metrics.Fetched(chunk.Data.Length);
                        offset += chunk.Data.Length;
                        transfer.Filled(offset);
                    }
                }
                store.PutVerified(hash, buffer);
                return buffer;
            }
            catch (PeerLacksBlob)
            {
                failures.Add(new PeerFailure(peer, FetchFailure.Lacks, "does not have it"));
            }
            catch (InvalidDataException e) when (buffer is not null && offset >= buffer.Length)
            {
                // The assembled blob is wrong: whatever we took from this peer (and before) is suspect.
                failures.Add(new PeerFailure(peer, FetchFailure.Bad, e.Message));
                buffer = null;
                offset = 0;
                transfer.Started(null);
            }
            catch (Exception e) when (e is AskTimeoutException or TaskCanceledException or InvalidDataException && !cancel.IsCancellationRequested)
            {
                failures.Add(e is InvalidDataException
                    ? new PeerFailure(peer, FetchFailure.Bad, $"{e.Message} at byte {offset}")
                    : new PeerFailure(peer, FetchFailure.Silent, $"did not answer within {Durations.Format(chunkTimeout)} at byte {offset}"));
            }
        }
        throw new BlobUnavailableException(hash, failures);
    }

    private sealed class PeerLacksBlob : Exception;

    /// <summary>One pull as the content server sees it: the buffer, how far it is filled, and a task that ends at the next change.</summary>
    private sealed class Transfer
    {
        private readonly Lock _lock = new();
        private byte[]? _buffer;
        private long _filled;
        private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public (byte[]? Buffer, long Filled, Task Next) Now()
        {
            lock (_lock) return (_buffer, _filled, _changed.Task);
        }

        /// <summary>A new buffer (the blob's size is known), or none: the bytes so far were bad and the pull starts over.</summary>
        public void Started(byte[]? buffer) => Change(() => (_buffer, _filled) = (buffer, 0));

        public void Filled(long offset) => Change(() => _filled = offset);

        public void End() => Change(() => _buffer = null);

        private void Change(Action change)
        {
            TaskCompletionSource changed;
            lock (_lock)
            {
                change();
                changed = _changed;
                _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
            changed.TrySetResult();
        }
    }
}

/// <summary>Why one peer did not give a blob: it lacks it (yet), it did not answer in time, or it sent bytes that are not the blob.</summary>
public enum FetchFailure { Lacks, Silent, Bad }

public sealed record PeerFailure(Address Peer, FetchFailure Kind, string Detail)
{
    public override string ToString() => $"{Peer}: {Detail}";
}

/// <summary>
/// No peer gave the blob in one pass over them. Mostly a matter of time (the origin is busy, the
/// others have not pulled it yet): worth retrying. <see cref="Corrupt"/>: every peer that
/// answered sent bytes that do not match the hash, which waiting does not mend.
/// </summary>
public sealed class BlobUnavailableException(string hash, IReadOnlyList<PeerFailure> failures)
    : Exception($"content {hash[..Math.Min(12, hash.Length)]} could not be fetched from any peer"
        + (failures.Count > 0 ? ": " + string.Join("; ", failures) : ": no peer to ask"))
{
    public string Hash => hash;

    public IReadOnlyList<PeerFailure> Failures => failures;

    /// <summary>Every peer asked sent wrong bytes for the hash (none lacked it or stayed silent).</summary>
    public bool Corrupt => failures.Count > 0 && failures.All(f => f.Kind == FetchFailure.Bad);

    /// <summary>
    /// The failures summed up for a person, the origin (where the body surely is) by name and the
    /// other peers counted: "origin akka.tcp://mesh@h1:4710 did not answer within 5s at byte 0; 3 peers do not have it yet".
    /// </summary>
    public string Summary(string originAddress)
    {
        if (failures.Count == 0) return "no peer to ask (this node sees no other member)";
        var parts = new List<string>();
        var origin = failures.FirstOrDefault(f => f.Peer.ToString() == originAddress);
        parts.Add(origin is null ? $"origin {originAddress} is not a member now" : $"origin {origin.Peer} {origin.Detail}");
        var others = failures.Where(f => f != origin).ToArray();
        void Count(FetchFailure kind, string one, string many)
        {
            var n = others.Count(f => f.Kind == kind);
            if (n > 0) parts.Add(n == 1 ? $"1 peer {one}" : $"{n} peers {many}");
        }
        Count(FetchFailure.Lacks, "does not have it yet", "do not have it yet");
        Count(FetchFailure.Silent, "did not answer in time", "did not answer in time");
        Count(FetchFailure.Bad, "sent bytes that do not match the hash", "sent bytes that do not match the hash");
        return string.Join("; ", parts);
    }
}
