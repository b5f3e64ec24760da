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
/// it is stored.
/// </summary>
public sealed class ContentFetcher(ActorSystem system, ContentStore store, int chunkSize, TimeSpan chunkTimeout, long maxBlobSize, MeshMetrics metrics)
{
    private const int Window = 4;

    public async Task<byte[]> FetchAsync(string hash, IReadOnlyList<Address> peers, CancellationToken cancel = default)
    {
        if (store.Get(hash) is { } local) return local;

        var failures = new List<PeerFailure>();
        byte[]? buffer = null;
        long offset = 0;
        foreach (var peer in peers)
        {
            var server = system.ActorSelection(new RootActorPath(peer) / "user" / ContentServer.Name);
            try
            {
                while (buffer is null || offset < buffer.Length)
                {
                    cancel.ThrowIfCancellationRequested();
                    var asks = Enumerable.Range(0, buffer is null ? 1 : Window)
                        .Select(i => offset + (long)i * chunkSize)
                        .TakeWhile(o => buffer is null || o < buffer.Length)
                        .Select(o => server.Ask<object>(new FetchChunk(hash, o, chunkSize), chunkTimeout, cancel))
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
                        }
                        else if (chunk.TotalSize != buffer.Length)
                            throw new InvalidDataException("peer reports a different size for the same hash");
                        if (chunk.Data.Length == 0 && offset < buffer.Length) throw new InvalidDataException("empty chunk");
                        chunk.Data.CopyTo(buffer, offset);
                        metrics.Fetched(chunk.Data.Length);
                        offset += chunk.Data.Length;
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
