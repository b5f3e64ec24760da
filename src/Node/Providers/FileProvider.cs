using System.Text;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Providers;

/// <summary>
/// Regular files. Content is replaced atomically (temporary file in the same directory,
/// flushed, then renamed over the old one), so a reader sees the old file or the new one,
/// never half of it. A symlink where the file should be is replaced, not followed.
/// </summary>
public sealed class FileProvider : IResourceProvider
{
    private static readonly UnixMode DefaultMode = new(Convert.ToInt32("644", 8));

    public string Kind => FileResource.KindName;

    public ProviderResult CheckApply(ResourceSpec resource, ApplyContext context, bool apply)
    {
        var spec = (FileResource)resource;
        var path = context.Resolve(spec.Path);
        var info = new FileInfo(path);
        var isLink = info.LinkTarget is not null;

        if (!isLink && Directory.Exists(path))
            throw new ResourceException($"{spec.Path} is a directory, not a file");

        if (spec.Ensure == Ensure.Absent)
        {
            if (!info.Exists && !isLink) return ProviderResult.Unchanged;
            if (apply) File.Delete(path);
            return new ProviderResult(ResourceAction.Removed, $"removed {spec.Path}");
        }

        var desired = spec.Content is null ? null : Encoding.UTF8.GetBytes(spec.Content);
        if (!info.Exists || isLink)
        {
            var parent = Path.GetDirectoryName(path)!;
            if (!Directory.Exists(parent))
                throw new ResourceException($"parent directory {Path.GetDirectoryName(spec.Path)} of {spec.Path} does not exist (declare it and require it)");
            if (apply) WriteAtomically(path, desired ?? [], spec.Mode ?? DefaultMode);
            return new ProviderResult(isLink ? ResourceAction.Changed : ResourceAction.Created,
                isLink ? $"replaced symlink {spec.Path} with a file" : $"created {spec.Path}");
        }

        var differences = new List<string>();
        var contentDiffers = desired is not null && !SameContent(path, desired);
        if (contentDiffers) differences.Add("content");
        var currentMode = new UnixMode((int)File.GetUnixFileMode(path));
        if (spec.Mode is { } mode && mode != currentMode) differences.Add($"mode {currentMode} -> {mode}");
        if (differences.Count == 0) return ProviderResult.Unchanged;

        if (apply)
        {
            if (contentDiffers) WriteAtomically(path, desired!, spec.Mode ?? currentMode);
            else File.SetUnixFileMode(path, spec.Mode!.Value.ToFileMode());
        }
        return new ProviderResult(ResourceAction.Changed, string.Join(", ", differences));
    }

    private static bool SameContent(string path, byte[] desired)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.SequentialScan);
        if (file.Length != desired.Length) return false;
        var buffer = new byte[Math.Min(desired.Length, 1 << 20)];
        var offset = 0;
        while (offset < desired.Length)
        {
            var read = file.Read(buffer, 0, Math.Min(buffer.Length, desired.Length - offset));
            if (read == 0) return false;
            if (!buffer.AsSpan(0, read).SequenceEqual(desired.AsSpan(offset, read))) return false;
            offset += read;
        }
        return true;
    }

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
                file.Flush(flushToDisk: true);
            }
            // The umask may have narrowed the mode at creation.
            File.SetUnixFileMode(temp, mode.ToFileMode());
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }
}
