# bash completion for weft                                  -*- shell-script -*-
#
# Install as <prefix>/share/bash-completion/completions/weft (make install-cli),
# or load it in the current shell with:  source <(weft completion bash)
#
# Completes commands, their verbs, options, option values, file names for
# `weft submit`, and queue names, which it asks the server for (`weft queues
# ls --json`, with the --url/--token/--namespace/--profile given so far) and
# gives up on after WEFT_COMPLETION_TIMEOUT seconds (default 2).

_weft_commands="serve submit ls get tasks runs cancel pause resume retry reset resolve queues workers
dead-letters tokens whoami audit workflows schedules template hooks events subscriptions logs enqueue worker step sleep wait-signal bench completion help"
_weft_global_opts="--url --token --namespace --profile --json --help"

# The verbs of a command, or nothing for a command without verbs.
_weft_verbs() {
    case $1 in
        tasks) echo "ls show events" ;;
        runs) echo "ls show tasks cancel pause resume" ;;
        queues) echo "ls show pause resume set" ;;
        workers) echo "ls show drain" ;;
        dead-letters) echo "ls show requeue" ;;
        tokens) echo "ls show create revoke" ;;
        workflows) echo "ls show key start cancel terminate retry signal" ;;
        schedules) echo "ls show create delete pause resume trigger next" ;;
        template) echo "ls show apply run" ;;
        hooks) echo "ls show create delete rotate" ;;
        events) echo "publish ls show" ;;
        subscriptions) echo "ls show create delete" ;;
        logs) echo "search" ;;
        completion) echo "bash zsh" ;;
        help) echo "$_weft_commands" ;;
    esac
}

# The options of a command (and verb), beside the global ones.
_weft_opts() {
    case $1 in
        serve) echo "--port --host --db --durability --help" ;;
        submit) echo "--format --wait --wait-timeout --idempotency-key" ;;
        ls) echo "--status --queue --run --executor --created-after --created-before --limit --cursor --all" ;;
        tasks)
            case $2 in
                ls) echo "--status --queue --run --executor --created-after --created-before --limit --cursor --all" ;;
                events) echo "--limit --cursor --all" ;;
            esac ;;
        runs)
            case $2 in
                ls) echo "--status --created-after --created-before --limit --cursor --all" ;;
                tasks) echo "--limit --cursor --all" ;;
            esac ;;
        cancel|pause|resume|retry|reset|resolve) echo "--reason" ;;
        workflows)
            case $2 in
                ls|"") echo "--status --type --queue --created-after --created-before --limit --cursor --all" ;;
                start) echo "--queue --input --key --max-attempts" ;;
                cancel|terminate|retry) echo "--reason" ;;
            esac ;;
        schedules)
            case $2 in
                ls|"") echo "--limit --cursor --all" ;;
                create) echo "--cron --tz --queue --job-name --workflow --input --template --context --target
--catchup --catchup-max --overlap --paused" ;;
            esac ;;
        template)
            case $2 in
                ls|"") echo "--name --limit --cursor --all" ;;
                run) echo "--context --key --identity" ;;
            esac ;;
        hooks)
            case $2 in
                ls|"") echo "--limit --cursor --all" ;;
                create) echo "--queue --job-name --workflow --input --template --context --target --scheme --secret
--replay-window" ;;
                rotate) echo "--secret" ;;
            esac ;;
        events)
            case $2 in
                ls|"") echo "--topic --limit --cursor --all" ;;
                publish) echo "--payload --id" ;;
            esac ;;
        subscriptions)
            case $2 in
                ls|"") echo "--limit --cursor --all" ;;
                create) echo "--topic --queue --job-name --workflow --input --template --context --target" ;;
            esac ;;
        logs)
            case $2 in
                search) echo "--task --run --queue --stream --level --text --since --until --limit --cursor --all" ;;
                *) echo "--follow -f --attempt --stream" ;;
            esac ;;
        queues|workers|dead-letters|tokens) echo "--limit --cursor --all" ;;
        audit) echo "--since --until --actor --action --object --limit --cursor --all" ;;
        enqueue) echo "--name --priority --run-at --delay --max-attempts --backoff --jitter --timeout --dedup-key
--dedup-window --concurrency-key --rate-key --metadata" ;;
        worker) echo "--queue --concurrency --claim-wait --lease --kill-grace --permanent-exit --outcome-log" ;;
        bench) echo "workflows exec --db --server --jobs --tasks --clients --concurrency --queue --rate --window --nodes
--soak --latency-rate --latency-secs --starts --logs --runs --workers --in-flight --keep --json" ;;
    esac
}

# Options that take a value: the word after one is that value.
_weft_takes_value() {
    case $1 in
        --url|--token|--namespace|--profile|--format|--wait-timeout|--idempotency-key|--port|--host|--db|\
        --durability|--status|--queue|--run|--executor|--created-after|--created-before|--limit|--cursor|\
        --reason|--name|--priority|--run-at|--delay|--max-attempts|--backoff|--jitter|--timeout|--dedup-key|\
        --dedup-window|--concurrency-key|--rate-key|--metadata|--concurrency|--claim-wait|--lease|--kill-grace|\
        --permanent-exit|--outcome-log|--type|--input|--key|--server|--jobs|--tasks|--clients|--rate|--window|--nodes|--soak|\
        --latency-rate|--latency-secs|--starts|--logs|--runs|--workers|--in-flight|--cron|--tz|--job-name|--workflow|--template|--context|--target|\
        --catchup|--catchup-max|--overlap|--identity|--since|--until|--actor|--action|--object|--scheme|--secret|\
        --replay-window|--payload|--id|--topic|--attempt|--stream|--level|--text|--task)
            return 0 ;;
    esac
    return 1
}

# Queue names from the server named by the words typed so far; nothing when
# it does not answer in time.
_weft_queue_names() {
    local -a server=()
    local i w
    for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
        w=${COMP_WORDS[i]}
        case $w in
            --url|--token|--namespace|--profile) server+=("$w" "${COMP_WORDS[i+1]}") ;;
            --url=*|--token=*|--namespace=*|--profile=*) server+=("$w") ;;
        esac
    done
    local out
    if command -v timeout >/dev/null 2>&1; then
        out=$(timeout "${WEFT_COMPLETION_TIMEOUT:-2}" "${COMP_WORDS[0]}" queues ls --json "${server[@]}" 2>/dev/null)
    else
        out=$("${COMP_WORDS[0]}" queues ls --json "${server[@]}" 2>/dev/null)
    fi
    printf '%s\n' "$out" | grep -o '"name": *"[^"\\]*"' | sed 's/^"name": *"//; s/"$//'
}

_weft() {
    local cur=${COMP_WORDS[COMP_CWORD]}
    local prev=
    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD-1]}
    COMPREPLY=()

    # The command, its verb and how many plain words follow them.
    local command= verb= nargs=0 i w
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        if [[ $w == -- ]]; then
            [[ $command == worker ]] && return 0   # the worker's own command: leave it to bash
            continue
        fi
        if [[ $w == -* ]]; then
            [[ $w != *=* ]] && _weft_takes_value "$w" && ((i++))
            continue
        fi
        if [[ -z $command ]]; then
            command=$w
        elif [[ -z $verb && -n $(_weft_verbs "$command") ]]; then
            verb=$w
        else
            ((nargs++))
        fi
    done

    # The value of an option.
    case $prev in
        --format) mapfile -t COMPREPLY < <(compgen -W "json yaml" -- "$cur"); return 0 ;;
        --durability) mapfile -t COMPREPLY < <(compgen -W "full normal" -- "$cur"); return 0 ;;
        --executor) mapfile -t COMPREPLY < <(compgen -W "queue webhook exec" -- "$cur"); return 0 ;;
        --identity) mapfile -t COMPREPLY < <(compgen -W "context key none" -- "$cur"); return 0 ;;
        --status)
            if [[ $command == runs ]]; then
                mapfile -t COMPREPLY < <(compgen -W "active success failure canceled" -- "$cur")
            else
                mapfile -t COMPREPLY < <(compgen -W "waiting pending claimed running paused retrying success
failure canceled skipped" -- "$cur")
            fi
            return 0 ;;
        --queue) mapfile -t COMPREPLY < <(compgen -W "$(_weft_queue_names)" -- "$cur"); return 0 ;;
        --db|--outcome-log) mapfile -t COMPREPLY < <(compgen -f -- "$cur"); return 0 ;;
    esac
    if [[ $prev == -* ]] && _weft_takes_value "$prev"; then
        return 0   # a value nothing can guess (a URL, a token, a number)
    fi

    if [[ $cur == -* ]]; then
        local opts="$_weft_global_opts $(_weft_opts "$command" "$verb")"
        [[ -z $command ]] && opts="--help"
        mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
        return 0
    fi
    if [[ -z $command ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$_weft_commands" -- "$cur")
        return 0
    fi
    local verbs
    verbs=$(_weft_verbs "$command")
    if [[ -n $verbs && -z $verb ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$verbs" -- "$cur")
        return 0
    fi
    [[ $command == template && $verb == apply ]] && command=submit   # a file, as submit's
    case $command in
        submit)
            if ((nargs == 0)); then
                # DAG files, and directories on the way to them
                compopt -o filenames 2>/dev/null
                local f
                while IFS= read -r f; do
                    case $f in
                        *.json|*.yaml|*.yml|*.JSON|*.YAML|*.YML) COMPREPLY+=("$f") ;;
                        *) [[ -d $f ]] && COMPREPLY+=("$f") ;;
                    esac
                done < <(compgen -f -- "$cur")
            fi ;;
        queues)
            case $verb in
                show|pause|resume|set)
                    ((nargs == 0)) && mapfile -t COMPREPLY < <(compgen -W "$(_weft_queue_names)" -- "$cur") ;;
            esac ;;
        enqueue)
            ((nargs == 0)) && mapfile -t COMPREPLY < <(compgen -W "$(_weft_queue_names)" -- "$cur") ;;
    esac
    return 0
}

complete -F _weft weft
