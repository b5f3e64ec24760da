using Akka.Actor;
using Mesh.Node.Observability;
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

        var failures = new List<string>();
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
                failures.Add($"{peer}: does not have it");
            }
            catch (InvalidDataException e) when (buffer is not null && offset >= buffer.Length)
            {
                // The assembled blob is wrong: whatever we took from this peer (and before) is suspect.
                failures.Add($"{peer}: {e.Message}");
                buffer = null;
                offset = 0;
            }
            catch (Exception e) when (e is AskTimeoutException or TaskCanceledException or InvalidDataException && !cancel.IsCancellationRequested)
            {
                failures.Add($"{peer}: {(e is InvalidDataException ? e.Message : "no answer")} at byte {offset}");
            }
        }
        throw new BlobUnavailableException(hash, failures);
    }

    private sealed class PeerLacksBlob : Exception;
}

public sealed class BlobUnavailableException(string hash, IReadOnlyList<string> failures)
    : Exception($"content {hash[..Math.Min(12, hash.Length)]} could not be fetched from any peer"
        + (failures.Count > 0 ? ": " + string.Join("; ", failures) : ": no peer to ask"));
