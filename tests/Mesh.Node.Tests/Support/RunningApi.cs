using Microsoft.AspNetCore.Builder;

namespace Mesh.Node.Tests.Support;

/// <summary>A test node with its control API running and a client for it (<see cref="TestMesh.StartWithApi"/>). Disposing stops the API; the node stays with its mesh.</summary>
public sealed record RunningApi(MeshNode Node, WebApplication App, HttpClient Http) : IAsyncDisposable
{
    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await App.DisposeAsync();
    }
}
