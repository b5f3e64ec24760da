# bash completion for mesh (commands, flags, manifest and node names).
# Install: mesh completion bash > /etc/bash_completion.d/mesh (the Debian package ships it),
# or add to ~/.bashrc: source <(mesh completion bash)
# Every TAB asks `mesh __complete`; names come from the node the line names (--api,
# --token-file, else MESH_API): none, quickly, when it is down.

_mesh() {
    local cur words cword
    if declare -F _get_comp_words_by_ref >/dev/null; then
        # bash-completion's split keeps HOST:PORT and --flag=value one word, as mesh sees them.
        _get_comp_words_by_ref -n =: cur words cword
    else
        # Without it, split the line up to the cursor on blanks: COMP_WORDS cuts HOST:PORT at the colon.
        local line=${COMP_LINE:0:COMP_POINT}
        read -ra words <<< "$line"
        [[ $line == *[[:blank:]] ]] && words+=("")
        cword=$((${#words[@]} - 1)) cur=${words[-1]}
    fi
    local -a lines
    mapfile -t lines < <("${words[0]}" __complete -- "${words[@]:1:cword-1}" "$cur" 2>/dev/null)
    if [[ ${lines[0]-} == :files ]]; then
        compopt -o filenames 2>/dev/null
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
        return 0
    fi
    # The candidates already start with $cur. They are used as they come, never through
    # compgen -W, which would expand a name like $(...) that a node sent.
    COMPREPLY=("${lines[@]%%$'\t'*}")
    if declare -F __ltrim_colon_completions >/dev/null; then __ltrim_colon_completions "$cur"; fi
    return 0
}
complete -F _mesh mesh
