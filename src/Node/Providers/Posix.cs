using System.Runtime.InteropServices;

namespace Mesh.Node.Providers;

/// <summary>
/// The two POSIX calls .NET does not offer: the owner of a path (lstat) and changing it
/// (lchown). Both act on a symlink itself, never on what it points to.
/// </summary>
public static class Posix
{
    [DllImport("libc", SetLastError = true)]
    private static extern int lstat(string path, byte[] buffer);

    [DllImport("libc", SetLastError = true)]
    private static extern int lchown(string path, int owner, int group);

    [DllImport("libc", SetLastError = true)]
    private static extern int open(string path, int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int syncfs(int fd);

    [DllImport("libc", SetLastError = true)]
    private static extern int close(int fd);

    private const int ReadOnlyDirectory = 0x10000; // O_RDONLY | O_DIRECTORY

    /// <summary>
    /// Flushes the file system holding <paramref name="path"/> to disk (syncfs): once per apply
    /// instead of an fsync per file, so a thousand atomic writes cost one flush.
    /// </summary>
    public static void SyncFileSystem(string path)
    {
        var fd = open(path, ReadOnlyDirectory);
        if (fd < 0) throw new IOException($"cannot open {path} to flush it: {Marshal.GetLastPInvokeErrorMessage()}");
        try
        {
            if (syncfs(fd) != 0) throw new IOException($"cannot flush {path}: {Marshal.GetLastPInvokeErrorMessage()}");
        }
        finally
        {
            close(fd);
        }
    }

    // Offsets of st_uid/st_gid in struct stat: the glibc layouts of the two 64-bit Linux ABIs.
    private static (int Uid, int Gid) Offsets => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => (28, 32),
        Architecture.Arm64 => (24, 28),
        var other => throw new PlatformNotSupportedException($"owner lookup is not implemented for {other}"),
    };

    public static (int Uid, int Gid) OwnerOf(string path)
    {
        var buffer = new byte[256];
        if (lstat(path, buffer) != 0)
            throw new IOException($"cannot read the owner of {path}: {Marshal.GetLastPInvokeErrorMessage()}");
        var (uid, gid) = Offsets;
        return (BitConverter.ToInt32(buffer, uid), BitConverter.ToInt32(buffer, gid));
    }

    /// <summary>Sets owner and/or group; -1 leaves one as it is.</summary>
    public static void Chown(string path, int uid, int gid)
    {
        if (lchown(path, uid, gid) != 0)
            throw new ResourceException($"cannot change the owner of {path}: {Marshal.GetLastPInvokeErrorMessage()}");
    }
}
