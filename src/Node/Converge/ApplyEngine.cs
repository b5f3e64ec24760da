using System.Diagnostics;
using Mesh.Node.Providers;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Secrets;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Converge;

/// <summary>
/// Runs a manifest against this host: resources in dependency order, each through its
/// provider. A resource that changed refreshes the ones it notifies (a service restarts, a
/// refresh-only command runs); a refresh that did not happen (it failed, or the resource
/// failed first) is remembered and tried again on the next run (<see cref="PendingRefreshes"/>).
/// A resource on a path another manifest holds on this node fails, naming both. A resource whose dependency failed is skipped, and says why,
/// while the independent ones still apply. With <c>apply = false</c> the same walk is the plan.
/// A cancelled run stops before the next resource (a provider kills the tool it is running)
/// and throws <see cref="OperationCanceledException"/>: nothing is reported for a run cut short.
/// </summary>
public sealed class ApplyEngine
{
    private readonly Dictionary<string, IResourceProvider> _providers = new(StringComparer.Ordinal);

    /// <param name="providers">One per kind; a second provider for a kind is refused here, not found at apply time.</param>
    public ApplyEngine(IEnumerable<IResourceProvider> providers)
    {
        foreach (var provider in providers)
        {
            if (!_providers.TryAdd(provider.Kind, provider))
                throw new ArgumentException($"two providers for resource kind '{provider.Kind}': {_providers[provider.Kind].GetType().Name} and {provider.GetType().Name}", nameof(providers));
        }
    }

    /// <summary>
    /// The provider of every kind this node applies, one line a kind. A kind the protocol knows
    /// (<see cref="ResourceKinds"/>) that is missing here fails the node's tests, not an apply.
    /// </summary>
    public static ApplyEngine Default() => new(
    [
        new FileProvider(),
        new DirectoryProvider(),
        new SymlinkProvider(),
        new ExecProvider(),
        new ServiceProvider(),
        new PackageProvider(),
        new UserProvider(),
        new GroupProvider(),
    ]);

    /// <summary>The kinds this engine has a provider for.</summary>
    public IReadOnlyCollection<string> Kinds => _providers.Keys;

    /// <summary>The walk itself, over a manifest whose secrets are open: <see cref="Apply"/> and <see cref="Plan"/> open them and redact what comes out.</summary>
    public IReadOnlyList<ResourceResult> Run(Manifest manifest, ApplyContext context, bool apply, CancellationToken cancel = default)
    {
        context = context.For(manifest);
        var results = new List<ResourceResult>();
        var failed = new HashSet<string>(StringComparer.Ordinal);
        var toRefresh = new HashSet<string>(StringComparer.Ordinal);
        foreach (var resource in ResourceGraph.Order(manifest.Resources))
        {
            cancel.ThrowIfCancellationRequested();
            _providers.TryGetValue(resource.Kind, out var provider);
            // Notified now, or earlier without the refresh having happened yet.
            var notified = provider is IRefreshable
                && (toRefresh.Contains(resource.Id) || context.Refreshes?.IsPending(context.Manifest, resource.Id) == true);
            var blocker = resource.Requires.FirstOrDefault(failed.Contains);
            if (blocker is not null)
            {
                if (apply && notified) context.Refreshes?.Set(context.Manifest, resource.Id, pending: true);
                failed.Add(resource.Id);
                results.Add(new ResourceResult(resource.Id, resource.Kind, ResourceAction.Skipped, $"skipped: requires '{blocker}', which did not apply", 0));
                continue;
            }

            var clock = Stopwatch.StartNew();
            ResourceResult result;
            try
            {
                // Only an engine built from some of the providers (as tests build them) lacks a kind.
                if (provider is null)
                    throw new ResourceException($"no provider for resource type '{resource.Kind}' on this node");
                if (resource.ManagedPath is { } path && context.ManagedElsewhere.TryGetValue(path, out var owner))
                    throw new ResourceException($"{path} is already managed by manifest '{owner}' on this node; '{context.Manifest}' cannot manage it too (remove it from one of the two)");
                var outcome = provider.CheckApply(resource, context, apply, cancel);
                if (notified && provider is IRefreshable refreshable)
                    outcome = Merge(outcome, refreshable.Refresh(resource, context, apply, cancel));
                if (outcome.IsChange) toRefresh.UnionWith(resource.Notify);
                result = new ResourceResult(resource.Id, resource.Kind, outcome.Action, outcome.Message, clock.ElapsedMilliseconds, outcome.Detail);
            }
            catch (Exception e) when (e is ResourceException or IOException or UnauthorizedAccessException or PlatformNotSupportedException)
            {
                result = new ResourceResult(resource.Id, resource.Kind, ResourceAction.Failed, e.Message, clock.ElapsedMilliseconds);
            }
            catch (Exception e) when (e is not OutOfMemoryException && !(e is OperationCanceledException && cancel.IsCancellationRequested))
            {
                // A provider bug must cost one resource, not the node's ability to converge.
                result = new ResourceResult(resource.Id, resource.Kind, ResourceAction.Failed, $"internal error in the {resource.Kind} provider: {e.Message}", clock.ElapsedMilliseconds);
            }
            if (result.Action == ResourceAction.Failed) failed.Add(resource.Id);
            // A refresh that failed, or never ran because the resource failed first, is still owed;
            // so is a command that failed: a re-check, which does not run an unguarded one, runs it as owed.
            if (apply && (notified || resource is ExecResource && result.Action == ResourceAction.Failed))
                context.Refreshes?.Set(context.Manifest, resource.Id, pending: result.Action == ResourceAction.Failed);
            results.Add(result);
        }
        if (apply) context.Refreshes?.Retain(context.Manifest, manifest.Resources.Select(r => r.Id).ToHashSet(StringComparer.Ordinal));
        // What this run wrote is on disk before anyone is told it applied.
        if (apply && results.Any(r => r.Action is ResourceAction.Created or ResourceAction.Changed or ResourceAction.Removed))
            Posix.SyncFileSystem(context.Root);
        return results;
    }

    /// <summary>The state check and the refresh as one result: a refresh that acted is a change.</summary>
    private static ProviderResult Merge(ProviderResult check, ProviderResult refresh)
    {
        if (refresh.Action == ResourceAction.Unchanged) return check;
        if (refresh.Action == ResourceAction.Failed || check.Action == ResourceAction.Unchanged)
            return refresh with { Message = Join(check.Message, refresh.Message), Detail = refresh.Detail ?? check.Detail };
        return check with { Message = Join(check.Message, refresh.Message), Detail = check.Detail ?? refresh.Detail };
    }

    private static string? Join(string? a, string? b) => a is null ? b : b is null ? a : $"{a}; {b}";

    /// <summary>Applies and sums up the outcome as the report a node sends.</summary>
    public ApplyReport Apply(string node, RevisionRecord revision, Manifest manifest, ApplyContext context, CancellationToken cancel = default) =>
        Summarise(node, revision, manifest, context, apply: true, cancel);

    /// <summary>What an apply would do, changing nothing: the dry run.</summary>
    public ApplyReport Plan(string node, RevisionRecord revision, Manifest manifest, ApplyContext context, CancellationToken cancel = default) =>
        Summarise(node, revision, manifest, context, apply: false, cancel);

    private ApplyReport Summarise(string node, RevisionRecord revision, Manifest manifest, ApplyContext context, bool apply, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        OpenedManifest opened;
        try
        {
            opened = OpenSecrets(node, manifest, context);
        }
        catch (SecretException e)
        {
            return Failure(node, revision, e.Message, clock.ElapsedMilliseconds);
        }
        var results = opened.Redact(Run(opened.Manifest, context, apply, cancel));
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

    /// <summary>
    /// The manifest with its sealed secrets opened by this node's key, for this one run: the
    /// converger keeps, enforces and shares the sealed manifest, and the results are redacted
    /// before they leave the engine, so plaintext lives only as long as the apply.
    /// </summary>
    private static OpenedManifest OpenSecrets(string node, Manifest manifest, ApplyContext context) =>
        ManifestSecrets.Open(manifest, envelope => context.Key is { } key
            ? key.Open(envelope, manifest.Name)
            : throw new SecretException(SecretFailure.NotARecipient, "the node has no key"), node);

    /// <summary>The report for a revision that could not even be planned (body unavailable, unreadable).</summary>
    public static ApplyReport Failure(string node, RevisionRecord revision, string error, long durationMs) =>
        new(node, revision.Manifest, revision.Version, revision.Hash, ApplyOutcome.Failed, 0, [], error, durationMs, DateTimeOffset.UtcNow);
}
