using System.CommandLine;
using Akka.Actor;
using Akka.Configuration;
using Mesh.HostSim;
using Mesh.Node.Attached;
using Mesh.Node.Configuration;

// Many simulated attached hosts in one process (docs/SCALING.md, "the simulation"): each has its
// own AttachedLink (its own ClusterClient, keep-alives, heads) and its own content store, pulls each
// body that targets it from the core and reports; only the apply itself is left out.
var count = new Option<int>("--count") { Description = "how many hosts this process simulates", DefaultValueFactory = _ => 250 };
var prefix = new Option<string>("--prefix") { Description = "host names are PREFIX0, PREFIX1, …", DefaultValueFactory = _ => "sim-" };
var attach = new Option<string[]>("--attach") { Description = "a core peer, HOST:PORT (repeatable)", Required = true };
var roles = new Option<string[]>("--role") { Description = "a role of every simulated host (repeatable)" };
var dataDir = new Option<string>("--data-dir") { Description = "where the hosts keep their heads and bodies", Required = true };
var keepAlive = new Option<string>("--keep-alive") { Description = "mesh.attached.keep-alive of every host", DefaultValueFactory = _ => "10s" };
var command = new RootCommand("mesh-hostsim: simulated attached hosts for the fleet bench") { count, prefix, attach, roles, dataDir, keepAlive };
command.SetAction(async (parse, cancel) =>
{
    var hosts = parse.GetValue(count);
    var contacts = parse.GetValue(attach)!;
    var dir = Path.GetFullPath(parse.GetValue(dataDir)!);
    var hocon = $$"""
        mesh.name = {{"\"" + parse.GetValue(prefix) + "\""}}
        mesh.port = 0
        mesh.data-dir = {{"\"" + dir + "\""}}
        mesh.attach = [{{string.Join(", ", contacts.Select(c => "\"" + c + "\""))}}]
        mesh.attached.keep-alive = {{parse.GetValue(keepAlive)}}
        akka.loglevel = WARNING
        """;
    var config = ConfigurationFactory.ParseString(hocon).WithFallback(NodeConfig.Embedded());
    var settings = NodeSettings.From(config);
    var system = ActorSystem.Create(NodeSettings.ActorSystemName, NodeConfig.ForAttachedHost(settings, config));
    var attached = new SimulatedFleet(system, settings, parse.GetValue(prefix)!, hosts, parse.GetValue(roles) ?? [], dir);
    // The bench reads these lines: one when every host has a peer, then one per report sent.
    await attached.AttachedAsync(cancel);
    Console.WriteLine($"attached {hosts}");
    try
    {
        await Task.Delay(Timeout.Infinite, cancel);
    }
    catch (OperationCanceledException)
    {
        // Stopped.
    }
    await system.Terminate();
    return 0;
});
return await command.Parse(args).InvokeAsync();
