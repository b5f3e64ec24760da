namespace Mesh.Node;

/// <summary>
/// A write this node had to make found its file system full (ENOSPC, or EDQUOT: a quota is
/// full too). The message names the file, so an operator knows which disk to free; whatever
/// was being written is not left behind under its final name.
/// </summary>
public sealed class DiskFullException(string path, IOException? cause, string? detail = null)
    : IOException($"no space left on device writing {path}" + (detail is null ? "" : $" ({detail})"), cause)
{
    private const int NoSpace = 28;   // ENOSPC on Linux
    private const int OverQuota = 122; // EDQUOT on Linux

    public string Path { get; } = path;

    /// <summary>Whether the error is the file system being full (.NET carries the errno in the HResult of an I/O error).</summary>
    public static bool IsDiskFull(Exception e) =>
        e is DiskFullException || e is IOException { HResult: NoSpace or OverQuota };
}
