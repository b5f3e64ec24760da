using Mesh.Protocol.Manifests;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Providers;

/// <summary>Directories: created with their mode, their mode kept, removed when absent (a non-empty one only with force).</summary>
public sealed class DirectoryProvider : IResourceProvider
{
    private static readonly UnixMode DefaultMode = new(Convert.ToInt32("755", 8));

    public string Kind => DirectoryResource.KindName;

    public ProviderResult CheckApply(ResourceSpec resource, ApplyContext context, bool apply, CancellationToken cancel)
    {
        var spec = (DirectoryResource)resource;
        var path = context.Resolve(spec.Path);
        var info = new DirectoryInfo(path);
        if (info.LinkTarget is not null)
            throw new ResourceException($"{spec.Path} is a symlink, not a directory");
        if (File.Exists(path))
            throw new ResourceException($"{spec.Path} exists and is not a directory");

        if (spec.Ensure == Ensure.Absent)
        {
            if (!info.Exists) return ProviderResult.Unchanged;
            var empty = !info.EnumerateFileSystemInfos().Any();
            if (!empty && !spec.Force)
                throw new ResourceException($"{spec.Path} is not empty; set 'force: true' to remove it with its contents");
            if (apply) info.Delete(recursive: true);
            return new ProviderResult(ResourceAction.Removed, $"removed {spec.Path}");
        }

        var mode = spec.Mode ?? DefaultMode;
        if (!info.Exists)
        {
            if (!Directory.Exists(Path.GetDirectoryName(path)))
            {
                if (!apply) return new ProviderResult(ResourceAction.Created, $"created {spec.Path} (its parent {Path.GetDirectoryName(spec.Path)} does not exist yet)");
                throw new ResourceException($"parent directory {Path.GetDirectoryName(spec.Path)} of {spec.Path} does not exist (declare it and require it)");
            }
            if (apply)
            {
                Directory.CreateDirectory(path);
                File.SetUnixFileMode(path, mode.ToFileMode());
                Attributes(spec, context).Chown(path);
            }
            return new ProviderResult(ResourceAction.Created, $"created {spec.Path}");
        }

        var changes = Attributes(spec, context).Reconcile(path, new UnixMode((int)info.UnixFileMode), apply).ToList();
        if (spec.Purge) changes.AddRange(Purge(spec, info, context, apply));
        return changes.Count == 0 ? ProviderResult.Unchanged : new ProviderResult(ResourceAction.Changed, string.Join(", ", changes));
    }

    // Resolved only where needed: a plan for a directory that does not exist yet does not look up its owner.
    private static PathAttributes Attributes(DirectoryResource spec, ApplyContext context) =>
        PathAttributes.Resolve(spec.Mode, spec.Owner, spec.Group, context);

    /// <summary>Removes the entries no manifest on this node manages; a directory only with force.</summary>
    private static IEnumerable<string> Purge(DirectoryResource spec, DirectoryInfo info, ApplyContext context, bool apply)
    {
        var prefix = spec.Path == "/" ? "/" : spec.Path + "/";
        var purged = new List<string>();
        foreach (var entry in info.EnumerateFileSystemInfos().OrderBy(e => e.Name, StringComparer.Ordinal))
        {
            if (context.Managed.Contains(prefix + entry.Name)) continue;
            var isDirectory = entry is DirectoryInfo && entry.LinkTarget is null;
            if (isDirectory && !spec.Force) continue;
            if (apply)
            {
                if (isDirectory) ((DirectoryInfo)entry).Delete(recursive: true);
                else entry.Delete();
            }
            purged.Add(prefix + entry.Name);
        }
        return purged.Count == 0 ? [] : [$"purged {string.Join(", ", purged)}"];
    }
}
