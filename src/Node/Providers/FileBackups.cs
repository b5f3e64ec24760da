namespace Mesh.Node.Providers;

/// <summary>
/// Keeps the content a file had before Mesh replaced it: the last N versions per file under
/// <c>&lt;data-dir&gt;/backups/&lt;manifest&gt;/&lt;path&gt;/</c>, named by time, so an operator can
/// see or restore what was there.
/// </summary>
public static class FileBackups
{
    public static void Keep(ApplyContext context, string manifestPath, string hostPath)
    {
        if (context.BackupDir is null || context.BackupCount <= 0 || !File.Exists(hostPath)) return;
        var dir = Path.Combine(context.BackupDir, context.Manifest, manifestPath.TrimStart('/').Replace('/', '%'));
        var backup = Path.Combine(dir, DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss.fffffff'Z'"));
        try
        {
            // A backup can hold anything a managed file held, a secret included: for the node's user only.
            Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            File.Copy(hostPath, backup, overwrite: true);
        }
        catch (IOException e) when (DiskFullException.IsDiskFull(e))
        {
            // Nothing is replaced without its backup: the file stays as it is until there is room.
            File.Delete(backup);
            throw new DiskFullException($"{backup} (the backup of {hostPath})", e);
        }
        foreach (var old in Directory.GetFiles(dir).Order(StringComparer.Ordinal).SkipLast(context.BackupCount))
            File.Delete(old);
    }
}
