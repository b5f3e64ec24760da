using Mesh.Protocol.Manifests;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Providers;

/// <summary>
/// One resource kind's knowledge of the host. <see cref="CheckApply"/> inspects the current
/// state and says what differs; with <c>apply</c> it also changes it. The dry run is the
/// same code with <c>apply = false</c>, so it cannot drift from the real thing.
/// </summary>
public interface IResourceProvider
{
    string Kind { get; }

    ProviderResult CheckApply(ResourceSpec resource, ApplyContext context, bool apply);
}

/// <summary>What a provider found (and did, when applying).</summary>
public sealed record ProviderResult(ResourceAction Action, string? Message = null)
{
    public static readonly ProviderResult Unchanged = new(ResourceAction.Unchanged);
}

/// <summary>Where and for whom a manifest is applied.</summary>
public sealed record ApplyContext(string Root)
{
    public string Resolve(string manifestPath) => RootedPath.Resolve(Root, manifestPath);
}

/// <summary>A resource could not be brought to its desired state; the message says why.</summary>
public sealed class ResourceException(string message) : Exception(message);
