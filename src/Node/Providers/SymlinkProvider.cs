using System.Runtime.InteropServices;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Providers;

/// <summary>
/// Symbolic links. A link is created or retargeted atomically (a new link beside it, renamed
/// over the old one), so a reader always finds the old target or the new one. An absolute
/// target is placed under the node's root; a relative one must stay inside the root from
/// where the link really is, symlinked parents included.
/// </summary>
public sealed class SymlinkProvider : IResourceProvider
{
    [DllImport("libc", SetLastError = true)]
    private static extern int rename(string oldPath, string newPath);

    [DllImport("libc", SetLastError = true)]
    private static extern IntPtr realpath(string path, IntPtr resolved);

    [DllImport("libc")]
    private static extern void free(IntPtr pointer);

    public string Kind => SymlinkResource.KindName;

    public ProviderResult CheckApply(ResourceSpec resource, ApplyContext context, bool apply, CancellationToken cancel)
    {
        var spec = (SymlinkResource)resource;
        var path = context.Resolve(spec.Path);
        var info = new FileInfo(path);
        var current = info.LinkTarget;

        if (spec.Ensure == Ensure.Absent)
        {
            // Only a link is this resource's to remove: a file or directory here is someone's data.
            if (current is null) return ProviderResult.Unchanged;
            if (apply) File.Delete(path);
            return new ProviderResult(ResourceAction.Removed, $"removed {spec.Path} (was -> {Shown(current, context)})");
        }

        var desired = DesiredTarget(spec, context, path);
        if (current == desired) return ProviderResult.Unchanged;
        var shown = spec.Target!;

        if (current is not null)
        {
            if (apply) ReplaceWithLink(path, desired);
            return new ProviderResult(ResourceAction.Changed, $"retargeted {spec.Path}: {Shown(current, context)} -> {shown}");
        }

        if (Directory.Exists(path))
        {
            if (!spec.Force)
                throw new ResourceException($"{spec.Path} is a directory, not a symlink; set 'force: true' to replace it if it is empty");
            if (Directory.EnumerateFileSystemEntries(path).Any())
                throw new ResourceException($"{spec.Path} is a directory that is not empty; it is never deleted to make room for a symlink");
            if (apply)
            {
                // rename(2) cannot put a link over a directory: this one replacement is not atomic.
                Directory.Delete(path);
                ReplaceWithLink(path, desired);
            }
            return new ProviderResult(ResourceAction.Changed, $"replaced empty directory {spec.Path} with a symlink -> {shown}");
        }

        if (File.Exists(path))
        {
            if (!spec.Force)
                throw new ResourceException($"{spec.Path} is a file, not a symlink; set 'force: true' to replace it");
            if (apply)
            {
                FileBackups.Keep(context, spec.Path, path);
                ReplaceWithLink(path, desired);
            }
            return new ProviderResult(ResourceAction.Changed, $"replaced file {spec.Path} with a symlink -> {shown}");
        }

        var parent = Path.GetDirectoryName(path)!;
        if (!Directory.Exists(parent))
        {
            // A plan cannot know whether an earlier resource would create the parent: say so instead of failing.
            if (!apply) return new ProviderResult(ResourceAction.Created, $"created {spec.Path} -> {shown} (its parent {Path.GetDirectoryName(spec.Path)} does not exist yet)");
            throw new ResourceException($"parent directory {Path.GetDirectoryName(spec.Path)} of {spec.Path} does not exist (declare it and require it)");
        }
        if (apply) ReplaceWithLink(path, desired);
        return new ProviderResult(ResourceAction.Created, $"created {spec.Path} -> {shown}");
    }

    /// <summary>
    /// The text the link must hold. An absolute target is the host path of that manifest path
    /// (its parents confined like any other path). A relative one is kept as written, once it
    /// is clear that, read from the link's real directory, it stays inside the root: the parser
    /// checked it against the manifest path, but a symlinked parent can make it climb further.
    /// A target that exists, or is itself a symlink, must also end up inside the root, so a link
    /// Mesh makes never leads out of it.
    /// </summary>
    private static string DesiredTarget(SymlinkResource spec, ApplyContext context, string linkHostPath)
    {
        var target = spec.Target!;
        var root = context.Resolve("/");
        string text, hostTarget;
        if (target.StartsWith('/'))
        {
            text = hostTarget = context.Resolve(target);
        }
        else
        {
            var parent = Path.GetDirectoryName(linkHostPath)!;
            var realParent = RealPath(parent) ?? parent;
            text = target;
            hostTarget = Path.GetFullPath(Path.Combine(realParent, target));
        }
        var leadsTo = !RootedPath.IsUnder(hostTarget, root) ? hostTarget : FinalTarget(hostTarget);
        if (leadsTo is not null && !RootedPath.IsUnder(leadsTo, root))
            throw new ResourceException($"{spec.Path} -> {target} would lead outside the root (to {leadsTo})");
        return text;
    }

    /// <summary>Where a path ends up once every symlink on it is followed; null when nothing is there yet.</summary>
    private static string? FinalTarget(string path)
    {
        var info = new FileInfo(path);
        if (info.LinkTarget is null) return File.Exists(path) || Directory.Exists(path) ? RealPath(path) : null;
        // A dangling symlink: where it would lead once its target is created.
        return RealPath(path) ?? info.ResolveLinkTarget(returnFinalTarget: true)?.FullName;
    }

    /// <summary>A link's target as the manifest would write it: an absolute one under the root loses the root.</summary>
    private static string Shown(string linkText, ApplyContext context)
    {
        var root = context.Resolve("/");
        if (!linkText.StartsWith('/') || root == "/" || !RootedPath.IsUnder(linkText, root)) return linkText;
        return linkText.Length == root.Length ? "/" : linkText[root.Length..];
    }

    /// <summary>A new link beside the old path, renamed over it: rename(2) replaces a file or link in one step.</summary>
    private static void ReplaceWithLink(string path, string target)
    {
        var temp = Path.Combine(Path.GetDirectoryName(path)!, $".{Path.GetFileName(path)}.mesh-{Guid.NewGuid():N}");
        File.CreateSymbolicLink(temp, target);
        if (rename(temp, path) != 0)
        {
            var error = Marshal.GetLastPInvokeErrorMessage();
            File.Delete(temp);
            throw new IOException($"cannot put the symlink in place at {path}: {error}");
        }
    }

    /// <summary>The path with every symlink resolved (realpath(3)); null when some part of it does not exist.</summary>
    private static string? RealPath(string path)
    {
        var resolved = realpath(path, IntPtr.Zero);
        if (resolved == IntPtr.Zero) return null;
        try
        {
            return Marshal.PtrToStringUTF8(resolved)!;
        }
        finally
        {
            free(resolved);
        }
    }
}
