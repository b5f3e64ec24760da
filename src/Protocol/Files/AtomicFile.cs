namespace Mesh.Protocol.Files;

/// <summary>
/// Writes a file whole or not at all: to a temporary file beside it, created with its final
/// mode (a private key is never readable by others, not even for a moment), flushed, then
/// renamed into place. A reader sees no file, the old one or the new one, never a part.
/// </summary>
public static class AtomicFile
{
    public const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <param name="overwrite">false: an existing file at <paramref name="path"/> is an IOException and stays as it is</param>
    public static void Write(string path, byte[] bytes, UnixFileMode mode, bool overwrite)
    {
        var temp = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var file = new FileStream(temp, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = mode }))
            {
                file.Write(bytes);
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    public static void Write(string path, string text, UnixFileMode mode, bool overwrite) =>
        Write(path, System.Text.Encoding.UTF8.GetBytes(text), mode, overwrite);
}
