using System.Diagnostics;
using Mesh.Node.Providers;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Converge;

/// <summary>
/// Applies a manifest to this host: resources in dependency order, each through its
/// provider; a resource whose dependency failed is skipped (and says why) while the
/// independent ones still apply.
/// </summary>
public sealed class ApplyEngine(IEnumerable<IResourceProvider> providers)
{
    private readonly Dictionary<string, IResourceProvider> _providers = providers.ToDictionary(p => p.Kind, StringComparer.Ordinal);

    public static ApplyEngine Default() => new([new FileProvider(), new DirectoryProvider()]);

    public IReadOnlyList<ResourceResult> Run(Manifest manifest, ApplyContext context, bool apply)
    {
        var results = new List<ResourceResult>();
        var failed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var resource in ResourceGraph.Order(manifest.Resources))
        {
            var blocker = resource.Requires.FirstOrDefault(failed.Contains);
            if (blocker is not null)
            {
                failed.Add(resource.Id);
                results.Add(new ResourceResult(resource.Id, resource.Kind, ResourceAction.Skipped, $"skipped: requires '{blocker}', which did not apply", 0));
                continue;
            }

            var clock = Stopwatch.StartNew();
            ResourceResult result;
            try
            {
                if (!_providers.TryGetValue(resource.Kind, out var provider))
                    throw new ResourceException($"no provider for resource type '{resource.Kind}' on this node");
                var outcome = provider.CheckApply(resource, context, apply);
                result = new ResourceResult(resource.Id, resource.Kind, outcome.Action, outcome.Message, clock.ElapsedMilliseconds);
            }
            catch (Exception e) when (e is ResourceException or IOException or UnauthorizedAccessException)
            {
                result = new ResourceResult(resource.Id, resource.Kind, ResourceAction.Failed, e.Message, clock.ElapsedMilliseconds);
            }
            if (result.Action == ResourceAction.Failed) failed.Add(resource.Id);
            results.Add(result);
        }
        return results;
    }

    /// <summary>Applies and sums up the outcome as the report a node sends.</summary>
    public ApplyReport Apply(string node, RevisionRecord revision, Manifest manifest, ApplyContext context)
    {
        var clock = Stopwatch.StartNew();
        var results = Run(manifest, context, apply: true);
        var failures = results.Where(r => r.Action == ResourceAction.Failed).ToArray();
        return new ApplyReport(
            Node: node,
            Manifest: revision.Manifest,
            Version: revision.Version,
            Hash: revision.Hash,
            Outcome: failures.Length == 0 ? ApplyOutcome.Ok : ApplyOutcome.Failed,
            Changed: results.Count(r => r.Action is ResourceAction.Created or ResourceAction.Changed or ResourceAction.Removed),
            Resources: results.ToArray(),
            Error: failures.Length == 0 ? null : string.Join("; ", failures.Select(f => $"{f.Id}: {f.Message}")),
            DurationMs: clock.ElapsedMilliseconds,
            Time: DateTimeOffset.UtcNow);
    }

    /// <summary>The report for a revision that could not even be planned (body unavailable, unreadable).</summary>
    public static ApplyReport Failure(string node, RevisionRecord revision, string error, long durationMs) =>
        new(node, revision.Manifest, revision.Version, revision.Hash, ApplyOutcome.Failed, 0, [], error, durationMs, DateTimeOffset.UtcNow);
}
