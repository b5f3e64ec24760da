using Mesh.Protocol.Manifests;

namespace Mesh.Node.Providers;

/// <summary>
/// Atomic file replacement: write a temporary file beside the target, rename it over. A
/// reader sees the old file or the new one. Durability comes from one file-system flush at
/// the end of the apply (see <see cref="Converge.ApplyEngine"/>), not an fsync per file.
/// A failed write (a full disk) removes the temporary and leaves the old file as it was.
/// </summary>
public static class FileWriter
{
    public static void WriteAtomically(string path, byte[] content, UnixMode mode)
    {
        var temp = Path.Combine(Path.GetDirectoryName(path)!, $".{Path.GetFileName(path)}.mesh-{Guid.NewGuid():N}");
        try
        {
            using (var file = new FileStream(temp, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = mode.ToFileMode(),
            }))
            {
                file.Write(content);
            }
            // The umask may have narrowed the mode at creation.
            File.SetUnixFileMode(temp, mode.ToFileMode());
            File.Move(temp, path, overwrite: true);
        }
        catch (Exception e)
        {
            File.Delete(temp);
            if (DiskFullException.IsDiskFull(e)) throw new DiskFullException(path, (IOException)e);
            throw;
        }
    }
}
