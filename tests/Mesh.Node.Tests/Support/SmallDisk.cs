using System.Diagnostics;

namespace Mesh.Node.Tests.Support;

/// <summary>
/// A small file system of its own (tmpfs with a size limit) that a test can fill up to see what
/// a full disk does. Mounting needs root: <see cref="Unavailable"/> says why it cannot be had.
/// Disposed, it is unmounted (lazily, if something still holds it) and its mount point removed.
/// </summary>
public sealed class SmallDisk : IDisposable
{
    public string Path { get; }

    public static string? Unavailable => Environment.IsPrivilegedProcess ? null : "mounting a small tmpfs needs root, and this test does not run as root";

    public SmallDisk(int kilobytes = 1024)
    {
        Path = Directory.CreateTempSubdirectory("mesh-small-disk-").FullName;
        var (code, error) = Run("mount", "-t", "tmpfs", "-o", $"size={kilobytes}k", "tmpfs", Path);
        if (code != 0)
        {
            Directory.Delete(Path);
            throw new InvalidOperationException($"cannot mount a tmpfs on {Path}: {error}");
        }
    }

    public string this[string relative] => System.IO.Path.Combine(Path, relative.TrimStart('/'));

    /// <summary>Fills the disk with a filler file until a write fails; returns the filler's path (delete it to free the space).</summary>
    public string Fill()
    {
        var filler = this[$".filler-{Guid.NewGuid():N}"];
        using var file = new FileStream(filler, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0);
        var block = new byte[4096];
        try
        {
            while (true) file.Write(block);
        }
        catch (IOException)
        {
            // Full.
        }
        return filler;
    }

    public void Dispose()
    {
        Run("umount", "-l", Path);
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: an empty leftover mount point does not fail a test.
        }
    }

    private static (int Code, string Error) Run(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, error.Trim());
    }
}
