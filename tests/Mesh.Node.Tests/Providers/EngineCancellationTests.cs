using Mesh.Node.Converge;
using Mesh.Node.Providers;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Tests.Providers;

/// <summary>A cancelled run stops: no further resource is checked, and the caller gets an OperationCanceledException.</summary>
public sealed class EngineCancellationTests : ProviderTestBase
{
    private static readonly Manifest ThreeCommands = ManifestParser.Parse("""
        manifest: app
        resources:
          - id: first
            type: exec
            command: "true"
          - id: second
            type: exec
            command: "true"
          - id: third
            type: exec
            command: "true"
        """, "t.yaml");

    /// <summary>An exec provider that only records what it was asked, and cancels the run at the resource named.</summary>
    private sealed class Recording(CancellationTokenSource run, string cancelAt) : IResourceProvider
    {
        public List<string> Checked { get; } = [];

        public string Kind => ExecResource.KindName;

        public ProviderResult CheckApply(ResourceSpec resource, ApplyContext context, bool apply, CancellationToken cancel)
        {
            Checked.Add(resource.Id);
            if (resource.Id == cancelAt) run.Cancel();
            return ProviderResult.Unchanged;
        }
    }

    [Fact]
    public void A_run_cancelled_during_a_resource_checks_no_further_resource()
    {
        using var run = new CancellationTokenSource();
        var provider = new Recording(run, cancelAt: "second");

        Assert.Throws<OperationCanceledException>(() => new ApplyEngine([provider]).Run(ThreeCommands, Context, apply: true, run.Token));

        Assert.Equal(["first", "second"], provider.Checked);
    }

    [Fact]
    public void A_cancellation_a_provider_did_not_ask_for_fails_only_its_resource()
    {
        var provider = new Recording(new CancellationTokenSource(), cancelAt: "none");
        var results = new ApplyEngine([provider, new Throwing()]).Run(ManifestParser.Parse("""
            manifest: app
            resources:
              - id: link
                type: symlink
                path: /l
                target: /t
              - id: after
                type: exec
                command: "true"
            """, "t.yaml"), Context, apply: true, CancellationToken.None);

        Assert.Equal([ResourceAction.Failed, ResourceAction.Unchanged], results.Select(r => r.Action));
        Assert.StartsWith("internal error in the symlink provider", results[0].Message);
    }

    /// <summary>A provider whose own operation was cancelled (a library's timeout), not the run.</summary>
    private sealed class Throwing : IResourceProvider
    {
        public string Kind => SymlinkResource.KindName;

        public ProviderResult CheckApply(ResourceSpec resource, ApplyContext context, bool apply, CancellationToken cancel) =>
            throw new OperationCanceledException("a request timed out");
    }

    [Fact]
    public void A_cancelled_apply_kills_the_running_command_and_reports_nothing()
    {
        using var run = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var manifest = ManifestParser.Parse("""
            manifest: app
            resources:
              - id: slow
                type: exec
                command: "sleep 30"
              - id: after
                type: exec
                command: "touch after"
            """, "t.yaml");
        var clock = System.Diagnostics.Stopwatch.StartNew();

        Assert.ThrowsAny<OperationCanceledException>(() => ApplyEngine.Default().Run(manifest, Context, apply: true, run.Token));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"took {clock.Elapsed}");
        Assert.False(File.Exists(Root["after"]));
    }
}
