using Mesh.Protocol.Manifests;

namespace Mesh.Node.Content;

/// <summary>
/// Blobs on disk, addressed by their SHA-256: <c>&lt;data-dir&gt;/blobs/&lt;hash&gt;</c>. A blob is
/// written to a temporary file, flushed and renamed, so a crash never leaves a torn blob under
/// its final name, and its hash is checked before it is accepted. A full disk leaves no temporary
/// behind and says which file it could not write (<see cref="DiskFullException"/>). A blob
/// A blob is refused, before anything is written, when it would leave less than
/// <see cref="StateReserve"/> free for the node's replicated state. A blob
/// whose bytes no longer match its hash when read (a torn or damaged file) is set aside as
/// <c>.&lt;hash&gt;.corrupt-&lt;time&gt;</c> and reads as absent, so it is fetched again from a peer.
/// </summary>
public sealed class ContentStore
{
    private readonly string _dir;
    private readonly Action<string> _warn;

    private readonly long _reserve;

    /// <param name="warn">Where the store says it set a damaged blob aside (the node's log).</param>
    /// <param name="reserve">Room every blob must leave free (see <see cref="StateReserve"/>); 0: no check before the write.</param>
    public ContentStore(string dataDir, Action<string>? warn = null, long reserve = StateReserve)
    {
        _reserve = reserve;
        _dir = Path.Combine(dataDir, "blobs");
        _warn = warn ?? (_ => { });
        Directory.CreateDirectory(_dir);
    }

    public bool Contains(string hash) => IsHash(hash) && File.Exists(PathOf(hash));

    /// <summary>Stores bytes under their hash; returns the hash.</summary>
    public string Put(byte[] bytes)
    {
        var hash = CanonicalForm.Hash(bytes);
        RequireRoom(hash, Contains(hash) ? 0 : bytes.Length);
        if (Contains(hash)) return hash;
        var temp = Path.Combine(_dir, $".{hash}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                file.Write(bytes);
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, PathOf(hash), overwrite: true);
        }
        catch (IOException e)
        {
            File.Delete(temp);
            if (DiskFullException.IsDiskFull(e)) throw new DiskFullException(PathOf(hash), e);
            throw;
        }
        return hash;
    }

    /// <summary>
    /// Room a blob must leave on the data directory's file system for the node's replicated
    /// state (the revision's record, its reports): a push refused here is refused before
    /// anything is recorded, while one whose record fails to reach the disk would be refused
    /// after the replicator already took it in memory (and spread it).
    /// </summary>
    public const long StateReserve = 256 * 1024;

    private void RequireRoom(string hash, long bytes)
    {
        if (_reserve <= 0) return; // no reserve: the write itself says when the disk is full
        long free;
        try
        {
            free = new DriveInfo(_dir).AvailableFreeSpace;
        }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException)
        {
            return; // cannot tell: the write itself will say
        }
        if (free < bytes + _reserve)
            throw new DiskFullException(PathOf(hash), null,
                $"{free} bytes free; {bytes} needed plus {_reserve} kept for the node's state");
    }

    /// <summary>Stores bytes that must have the given hash; refuses them otherwise.</summary>
    public void PutVerified(string expectedHash, byte[] bytes)
    {
        var actual = CanonicalForm.Hash(bytes);
        if (actual != expectedHash)
            throw new InvalidDataException($"content does not match its hash: expected {expectedHash}, got {actual}");
        Put(bytes);
    }

    /// <summary>The blob's bytes, checked against its hash; null when it is absent or was damaged (then set aside).</summary>
    public byte[]? Get(string hash)
    {
        if (!Contains(hash)) return null;
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(PathOf(hash));
        }
        catch (FileNotFoundException)
        {
            return null; // collected meanwhile
        }
        if (CanonicalForm.Hash(bytes) == hash) return bytes;
        SetAside(hash);
        return null;
    }

    private void SetAside(string hash)
    {
        var aside = Path.Combine(_dir, $".{hash}.corrupt-{DateTime.UtcNow:yyyyMMdd'T'HHmmss'Z'}");
        try
        {
                File.Move(PathOf(hash), aside, overwrite: true);
            _warn($"content store: blob {hash[..12]} does not match its hash (torn or damaged); set aside as {aside}, it will be fetched again");
        }
        catch (IOException e)
        {
            File.Delete(PathOf(hash));
            _warn($"content store: blob {hash[..12]} does not match its hash (torn or damaged); deleted it (could not set it aside: {e.Message})");
        }
    }

    public long? SizeOf(string hash) => Contains(hash) ? new FileInfo(PathOf(hash)).Length : null;

    /// <summary>Reads up to <paramref name="length"/> bytes at <paramref name="offset"/>, with the blob's total size.</summary>
    public (byte[] Data, long Total)? Read(string hash, long offset, int length)
    {
        if (!Contains(hash)) return null;
        using var file = new FileStream(PathOf(hash), FileMode.Open, FileAccess.Read, FileShare.Read);
        var total = file.Length;
        if (offset < 0 || offset > total) return (Array.Empty<byte>(), total);
        var buffer = new byte[(int)Math.Min(length, total - offset)];
        file.Position = offset;
        file.ReadExactly(buffer);
        return (buffer, total);
    }

    /// <summary>Every blob's hash.</summary>
    public IEnumerable<string> Hashes() =>
        Directory.EnumerateFiles(_dir).Select(Path.GetFileName).OfType<string>().Where(IsHash);

    /// <summary>
    /// Deletes every blob not in <paramref name="keep"/> that is older than <paramref name="grace"/>
    /// (so a body stored by a push or a dry run still in flight survives); returns how many and their bytes.
    /// </summary>
    public (int Blobs, long Bytes) Collect(IReadOnlySet<string> keep, TimeSpan grace)
    {
        var cutoff = DateTime.UtcNow - grace;
        var (count, bytes) = (0, 0L);
        foreach (var hash in Hashes().Where(h => !keep.Contains(h)).ToArray())
        {
            var file = new FileInfo(PathOf(hash));
            if (!file.Exists || file.LastWriteTimeUtc > cutoff) continue;
            var length = file.Length;
            file.Delete();
            (count, bytes) = (count + 1, bytes + length);
        }
        // Temporaries a crash left behind.
        foreach (var temp in Directory.EnumerateFiles(_dir, ".*.tmp").Where(t => File.GetLastWriteTimeUtc(t) <= cutoff).ToArray())
            File.Delete(temp);
        return (count, bytes);
    }

    private string PathOf(string hash) => Path.Combine(_dir, hash);

    /// <summary>A hash is 64 lower-case hex digits; anything else never touches the file system.</summary>
    public static bool IsHash(string hash) => hash.Length == 64 && hash.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f');
}
