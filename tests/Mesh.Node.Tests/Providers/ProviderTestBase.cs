using Mesh.Node.Providers;
using Mesh.Node.Tests.Support;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Tests.Providers;

/// <summary>Runs providers for real against a temporary root.</summary>
public abstract class ProviderTestBase : IDisposable
{
    protected TempDir Root { get; } = new();
    protected ApplyContext Context => new(Root.Path);

    protected static readonly UnixMode Mode644 = new(Convert.ToInt32("644", 8));
    protected static readonly UnixMode Mode600 = new(Convert.ToInt32("600", 8));
    protected static readonly UnixMode Mode755 = new(Convert.ToInt32("755", 8));
    protected static readonly UnixMode Mode700 = new(Convert.ToInt32("700", 8));

    protected static FileResource FileSpec(string path, string? content = null, UnixMode? mode = null, Ensure ensure = Ensure.Present) =>
        new("f", [], path, ensure, content, mode);

    protected static DirectoryResource DirSpec(string path, UnixMode? mode = null, Ensure ensure = Ensure.Present, bool force = false) =>
        new("d", [], path, ensure, mode, force);

    protected UnixMode ModeOf(string relative) => new((int)File.GetUnixFileMode(Root[relative]));

    public virtual void Dispose() => Root.Dispose();
}
