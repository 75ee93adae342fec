# bash completion for stockpipe(1). Installed as
# /usr/share/bash-completion/completions/stockpipe. The command and option
# lists follow `stockpipe --help` and `stockpipe COMMAND --help`
# (tests/e2e/package.sh checks that every command is here).
_stockpipe()
{
	local cur prev words cword
	_init_completion || return

	local commands="run resume retry rerun runs show map check inspect
		quarantine replay targets deliver reconcile plan work db gc help"
	local globals="-c --config --state-dir --skip-exit-code -q --quiet
		--log-format -v --verbose -h --help --version"
	local stages="fetch unpack map load render deliver"

	case $prev in
	-c | --config | --mapping | --input | --output | --csv)
		_filedir
		return
		;;
	--state-dir)
		_filedir -d
		return
		;;
	--log-format)
		COMPREPLY=($(compgen -W "text json" -- "$cur"))
		return
		;;
	--until | --from)
		COMPREPLY=($(compgen -W "$stages" -- "$cur"))
		return
		;;
	--state)
		COMPREPLY=($(compgen -W "on_hand reserved in_transit damaged
			quarantined return_pending available" -- "$cur"))
		return
		;;
	--skip-exit-code | --source | --target | --limit | --run | \
		--worker-id | --lease | --poll | --stage | --note | \
		--tolerance | --max-segment | --pattern | --file-name | \
		--mtime | --fetched-at | --run-started | --between)
		return
		;;
	esac

	# The command: the first word that is not an option or an option's
	# value.
	local i cmd="" sub=""
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		-c | --config | --state-dir | --skip-exit-code | --log-format)
			((i++))
			;;
		-*) ;;
		*)
			if [[ -z $cmd ]]; then
				cmd=${words[i]}
			elif [[ -z $sub ]]; then
				sub=${words[i]}
			fi
			;;
		esac
	done

	local opts=""
	case $cmd in
	"")
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$globals" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$commands" -- "$cur"))
		fi
		return
		;;
	run) opts="--source --target --until --targets-only" ;;
	rerun) opts="--from --source --target" ;;
	runs) opts="--limit" ;;
	show) opts="--json --html --output" ;;
	retry) opts="--run" ;;
	inspect)
		opts="--json --max-segment"
		[[ $cur != -* ]] && { _filedir; return; }
		;;
	replay)
		opts="--source"
		[[ $cur != -* ]] && { _filedir; return; }
		;;
	targets) opts="--target" ;;
	gc) opts="--dry-run" ;;
	deliver) opts="--target --now --dry-run" ;;
	reconcile) opts="--state --between --tolerance --csv" ;;
	work)
		opts="--run --stage --source --worker-id --lease --poll --retry"
		;;
	map)
		if [[ -z $sub ]]; then
			COMPREPLY=($(compgen -W "try test check" -- "$cur"))
			return
		fi
		case $sub in
		try) opts="--mapping --input --source --pattern --file-name
			--mtime --fetched-at --run-started" ;;
		test) opts="--update" ;;
		esac
		[[ $cur != -* ]] && { _filedir yaml; return; }
		;;
	quarantine)
		if [[ -z $sub ]]; then
			COMPREPLY=($(compgen -W "list show release" -- "$cur"))
			return
		fi
		[[ $sub == release ]] && opts="--accept --note"
		;;
	db)
		if [[ -z $sub ]]; then
			COMPREPLY=($(compgen -W "migrate status" -- "$cur"))
			return
		fi
		;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$opts $globals" -- "$cur"))
	fi
} &&
	complete -F _stockpipe stockpipe
