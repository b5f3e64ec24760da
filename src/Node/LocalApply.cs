using System.Diagnostics;
using Mesh.Node.Content;
using Mesh.Node.Converge;
using Mesh.Node.Facts;
using Mesh.Node.Membership;
using Mesh.Node.Providers;
using Mesh.Node.Security;
using Mesh.Protocol.Api;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Versioning;
using Mesh.Protocol.Wire;

namespace Mesh.Node;

/// <summary>
/// <c>mesh-node apply FILE...</c>: applies manifests to this host directly, with no cluster
/// (as <c>puppet apply</c> or <c>cf-agent -f</c> do): for bootstrapping a host, trying a
/// manifest, and measuring the engine. The same parser, engine and providers as a node.
/// </summary>
public static class LocalApply
{
    public static int Run(IReadOnlyList<string> files, string root, string dataDir, bool dryRun, int repeat, TextWriter output)
    {
        Directory.CreateDirectory(root);
        var store = new ContentStore(dataDir);
        var identity = new NodeIdentity(Environment.MachineName, new HashSet<string>(), new Dictionary<string, string>());
        NodeKey? key;
        try
        {
            // Opens what was sealed for this host's node, when it has one (say, a body from mesh get).
            key = NodeKey.Load(dataDir);
        }
        catch (IOException e)
        {
            output.WriteLine($"mesh-node: {e.Message}");
            return 2;
        }
        var context = new ApplyContext(Path.GetFullPath(root))
        {
            Facts = NodeFacts.Gather(identity),
            Content = store,
            BackupDir = Path.Combine(dataDir, "backups"),
            Key = key,
        };
        var engine = ApplyEngine.Default();
        var clock = new HybridClock(identity.Name);

        var origin = new RevisionOrigin(Environment.UserName, identity.Name, "", "local apply");
        var manifests = new List<(Manifest Manifest, RevisionRecord Revision)>();
        try
        {
            foreach (var file in files)
            {
                // Nothing leaves this host, so a !secret value is taken as it is.
                var prepared = PreparedManifest.Prepare(ManifestSources.Read(file), plaintextSecrets: true);
                foreach (var attachment in prepared.Attachments.Values) store.Put(attachment);
                manifests.Add((prepared.Manifest, RevisionRecord.Of(prepared, clock.Now(), origin, parent: null)));
            }
        }
        catch (ManifestException e)
        {
            foreach (var error in e.Errors) output.WriteLine($"mesh-node: {error}");
            return 2;
        }

        var ok = true;
        for (var run = 1; run <= Math.Max(1, repeat); run++)
        {
            foreach (var (manifest, revision) in manifests)
            {
                var watch = Stopwatch.StartNew();
                var report = dryRun ? engine.Plan(identity.Name, revision, manifest, context) : engine.Apply(identity.Name, revision, manifest, context);
                watch.Stop();
                ok &= report.Succeeded;
                var rate = manifest.Resources.Count / Math.Max(watch.Elapsed.TotalSeconds, 1e-9);
                output.WriteLine($"{manifest.Name}: {(report.Succeeded ? "ok" : "FAILED")}, {report.Changed} {(dryRun ? "would change" : "changed")} " +
                    $"of {manifest.Resources.Count} in {watch.Elapsed.TotalMilliseconds:0.0} ms ({rate:0} resources/s)" + (repeat > 1 ? $" [run {run}]" : ""));
                foreach (var r in report.Resources.Where(r => r.Action != ResourceAction.Unchanged && (run == 1 || r.Action == ResourceAction.Failed)).Take(50))
                    output.WriteLine($"  {r.Action.ToString().ToLowerInvariant(),-9} {r.Kind} {r.Id}: {r.Message}");
            }
        }
        return ok ? 0 : 1;
    }
}
