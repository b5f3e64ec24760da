using System.Net;
using System.Net.Sockets;

namespace Mesh.Cli.Tests;

/// <summary>Runs the CLI in this process, capturing its exit code and what it printed.</summary>
public static class InProcessCli
{
    public static async Task<(int Code, string Out, string Err)> Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await MeshCli.RunAsync(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>A loopback port nobody listens on.</summary>
    public static string DeadApi()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return $"127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}";
    }
}
