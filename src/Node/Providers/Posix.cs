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
