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
}
