using Mesh.Protocol.Manifests;

namespace Mesh.Node.Content;

/// <summary>
/// Blobs on disk, addressed by their SHA-256: <c>&lt;data-dir&gt;/blobs/&lt;hash&gt;</c>. A blob is
/// written to a temporary file, flushed and renamed, so a crash never leaves a torn blob under
/// its final name, and its hash is checked before it is accepted.
/// </summary>
public sealed class ContentStore
{
    private readonly string _dir;

    public ContentStore(string dataDir)
    {
        _dir = Path.Combine(dataDir, "blobs");
        Directory.CreateDirectory(_dir);
    }

    public bool Contains(string hash) => IsHash(hash) && File.Exists(PathOf(hash));

    /// <summary>Stores bytes under their hash; returns the hash.</summary>
    public string Put(byte[] bytes)
    {
        var hash = CanonicalForm.Hash(bytes);
        if (Contains(hash)) return hash;
        var temp = Path.Combine(_dir, $".{hash}.{Guid.NewGuid():N}.tmp");
        using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
        {
            file.Write(bytes);
            file.Flush(flushToDisk: true);
        }
        File.Move(temp, PathOf(hash), overwrite: true);
        return hash;
    }

    /// <summary>Stores bytes that must have the given hash; refuses them otherwise.</summary>
    public void PutVerified(string expectedHash, byte[] bytes)
    {
        var actual = CanonicalForm.Hash(bytes);
        if (actual != expectedHash)
            throw new InvalidDataException($"content does not match its hash: expected {expectedHash}, got {actual}");
        Put(bytes);
    }

    public byte[]? Get(string hash) => Contains(hash) ? File.ReadAllBytes(PathOf(hash)) : null;

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
