using System.Text;
using DiffPlex.DiffBuilder;
using DiffPlex.DiffBuilder.Model;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Providers;

/// <summary>
/// Regular files. Content is replaced atomically (temporary file in the same directory,
/// flushed, then renamed over the old one), so a reader sees the old file or the new one,
/// never half of it; the old content is kept as a backup. A symlink where the file should be
/// is replaced, not followed. A dry run shows content changes as a unified diff.
/// </summary>
public sealed class FileProvider : IResourceProvider
{
    private static readonly UnixMode DefaultMode = new(Convert.ToInt32("644", 8));

    public string Kind => FileResource.KindName;

    public ProviderResult CheckApply(ResourceSpec resource, ApplyContext context, bool apply, CancellationToken cancel)
    {
        var spec = (FileResource)resource;
        var path = context.Resolve(spec.Path);
        // One lstat answers existence, kind and mode.
        var info = new FileInfo(path);
        var attributes = info.Exists || Directory.Exists(path) ? info.Attributes : 0;
        var isLink = (attributes & FileAttributes.ReparsePoint) != 0;

        if (!isLink && (attributes & FileAttributes.Directory) != 0)
            throw new ResourceException($"{spec.Path} is a directory, not a file");

        if (spec.Ensure == Ensure.Absent)
        {
            if (!info.Exists && !isLink) return ProviderResult.Unchanged;
            if (apply)
            {
                if (!isLink) FileBackups.Keep(context, spec.Path, path);
                File.Delete(path);
            }
            return new ProviderResult(ResourceAction.Removed, $"removed {spec.Path}");
        }

        var desired = DesiredContent(spec, context);
        var wanted = PathAttributes.Resolve(spec.Mode, spec.Owner, spec.Group, context);

        if (!info.Exists || isLink)
        {
            var parent = Path.GetDirectoryName(path)!;
            if (!Directory.Exists(parent))
            {
                // A plan cannot know whether an earlier resource would create the parent: say so instead of failing.
                if (!apply) return new ProviderResult(ResourceAction.Created, $"created {spec.Path} (its parent {Path.GetDirectoryName(spec.Path)} does not exist yet)",
                    desired is null ? null : UnifiedDiff(spec.Path, "", desired));
                throw new ResourceException($"parent directory {Path.GetDirectoryName(spec.Path)} of {spec.Path} does not exist (declare it and require it)");
            }
            if (apply)
            {
                FileWriter.WriteAtomically(path, desired ?? [], spec.Mode ?? DefaultMode);
                wanted.Chown(path);
            }
            return new ProviderResult(isLink ? ResourceAction.Changed : ResourceAction.Created,
                isLink ? $"replaced symlink {spec.Path} with a file" : $"created {spec.Path}",
                desired is null ? null : UnifiedDiff(spec.Path, "", desired));
        }

        var contentDiffers = desired is not null && !SameContent(path, desired);
        var currentMode = new UnixMode((int)info.UnixFileMode);
        var differences = new List<string>();
        if (contentDiffers) differences.Add("content");
        // New content is a new file, written below with the right attributes: the old one's are only compared.
        differences.AddRange(wanted.Reconcile(path, currentMode, apply && !contentDiffers));
        if (differences.Count == 0) return ProviderResult.Unchanged;

        var diff = contentDiffers ? UnifiedDiff(spec.Path, File.ReadAllText(path), desired!) : null;
        if (apply && contentDiffers)
        {
            // The rename makes a new inode: it keeps the old file's owner unless the manifest names one.
            var (oldUid, oldGid) = Posix.OwnerOf(path);
            FileBackups.Keep(context, spec.Path, path);
            FileWriter.WriteAtomically(path, desired!, spec.Mode ?? currentMode);
            Posix.Chown(path, wanted.Uid >= 0 ? wanted.Uid : oldUid, wanted.Gid >= 0 ? wanted.Gid : oldGid);
        }
        return new ProviderResult(ResourceAction.Changed, string.Join(", ", differences), diff);
    }

    /// <summary>The bytes the file must hold, or null when the manifest does not manage its content.</summary>
    private static byte[]? DesiredContent(FileResource spec, ApplyContext context)
    {
        if (spec.Content is not null) return Encoding.UTF8.GetBytes(spec.Content);
        if (spec.Template is not null) return Encoding.UTF8.GetBytes(TemplateRenderer.Render(spec.Template, context, spec.Id));
        if (spec.SourceHash is not null)
            return context.Content?.Get(spec.SourceHash)
                ?? throw new ResourceException($"source {spec.SourceHash[..12]} of {spec.Path} is not in this node's content store");
        return null;
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

    /// <summary>A unified diff of text content (binary content is summarised, not diffed).</summary>
    public static string UnifiedDiff(string name, string current, byte[] desired) => UnifiedDiff(name, name, current, desired);

    /// <summary>The same, between two differently named texts (two revisions of a manifest).</summary>
    public static string UnifiedDiff(string currentName, string desiredName, string current, byte[] desired)
    {
        if (desired.Contains((byte)0) || current.Contains('\0'))
            return $"binary content differs ({Encoding.UTF8.GetByteCount(current)} -> {desired.Length} bytes)";
        var model = InlineDiffBuilder.Diff(current, Encoding.UTF8.GetString(desired), ignoreWhiteSpace: false);
        var text = new StringBuilder().Append("--- ").Append(currentName).Append('\n').Append("+++ ").Append(desiredName).Append('\n');
        // Text that ends with a newline yields an empty last "line": it is not a line of the file.
        var lines = model.Lines.ToList();
        if (lines.Count > 0 && lines[^1].Text.Length == 0) lines.RemoveAt(lines.Count - 1);
        foreach (var line in lines)
        {
            var prefix = line.Type switch { ChangeType.Inserted => '+', ChangeType.Deleted => '-', _ => ' ' };
            text.Append(prefix).Append(line.Text).Append('\n');
        }
        return text.ToString();
    }
}
