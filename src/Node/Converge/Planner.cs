using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster;
using Mesh.Node.Content;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Converge;

/// <summary>
/// Answers dry runs: pulls the proposed manifest (and its sources), runs the engine with
/// apply off against this host, and replies with the plan. Plans run beside applies: they
/// only read the host.
/// </summary>
public sealed class Planner : ReceiveActor
{
    public const string Name = "planner";

    public Planner(ConvergerSetup setup)
    {
        var cluster = Cluster.Get(Context.System);
        ReceiveAsync<PlanRequest>(async request =>
        {
            var sender = Sender;
            var revision = request.Revision;
            var peers = new List<Address> { Address.Parse(revision.OriginAddress) };
            peers.AddRange(cluster.State.Members.Select(m => m.Address).Where(a => !a.Equals(cluster.SelfAddress) && !peers.Contains(a)));
            var report = await Task.Run(() => Plan(setup, revision, peers));
            sender.Tell(report.Compact());
        });
    }

    private static async Task<ApplyReport> Plan(ConvergerSetup setup, RevisionRecord revision, IReadOnlyList<Address> peers)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            var body = await setup.Fetcher.FetchAsync(revision.Hash, peers);
            var manifest = CanonicalForm.FromBytes(body, $"{revision.Manifest} (dry run)");
            foreach (var hash in manifest.Resources.OfType<FileResource>().Select(f => f.SourceHash).OfType<string>().Distinct())
                await setup.Fetcher.FetchAsync(hash, peers);
            return setup.Engine.Plan(setup.Identity.Name, revision, manifest, setup.Context);
        }
        catch (Exception e) when (e is BlobUnavailableException or ManifestException)
        {
            return ApplyEngine.Failure(setup.Identity.Name, revision, e.Message, clock.ElapsedMilliseconds);
        }
    }

    public static Props Props(ConvergerSetup setup) => Akka.Actor.Props.Create(() => new Planner(setup));
}
