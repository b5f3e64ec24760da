namespace Mesh.Cli.Tests;
