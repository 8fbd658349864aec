# CLI tests for `wanka cluster`: the presets, tweaks, JSON keys, Slurm export, and bad input.
set(B ${CMAKE_SOURCE_DIR}/tests/bad)
wk_cli_test(cluster_list "zhengzhou-60k +61440 cards" cluster list)
wk_cli_test(cluster_show_60k "cards +61440.*supernodes +96" cluster show zhengzhou-60k)
wk_cli_test(cluster_show_json
  "\"name\": \"dgx-a100\".*\"cards\": 12288.*\"nodes\": 1536.*\"supernodes\".*\"switches\".*\"links\".*\"peak_bf16_flops\".*\"hbm_bytes\".*\"bisection_bytes_per_s\""
  cluster show dgx-a100:nodes=1536 --json)
wk_cli_test(cluster_show_nvls "supernodes +3072 \\(8 cards on one bus scale-up domain, 450 GB/s per card per direction, reduces in the switch\\)"
  cluster show h100-roce-24k)
wk_cli_test(cluster_show_json_nvls "\"in_switch_reduction\": true" cluster show h100-roce-24k --json)
wk_cli_test(cluster_show_file "cards +1920" cluster show ${CMAKE_SOURCE_DIR}/tests/data/torus3d.yaml:nodes=480,fabric.torus.dims.3=10)
wk_cli_test(cluster_export_slurm "SwitchName=leaf0 Nodes=node\\[000-019\\].*SwitchName=pod0 Switches=leaf\\[0-1\\].*SwitchName=top"
  cluster export dgx-a100 --slurm-topology)
wk_cli_fail(cluster_unknown_key "^error: unknown cluster key 'colour'" cluster show dgx-a100:colour=blue)
wk_cli_fail(cluster_unknown_preset "^nope.yaml: error: cannot open cluster file" cluster show nope.yaml)
wk_cli_fail(cluster_too_big "holds at most 12800 NIC ports.*add a tier" cluster show dgx-a100:nodes=100000)
wk_cli_fail(cluster_no_name "name a cluster" cluster show)
wk_cli_fail(cluster_export_noformat "needs a format" cluster export dgx-a100)
foreach(bad yaml_syntax yaml_unknown_key yaml_negative yaml_zero_nodes yaml_radix yaml_tab yaml_list
        yaml_duplicate yaml_empty yaml_supernode yaml_torus yaml_nonnumeric yaml_reduction_mesh)
  file(STRINGS ${B}/hw_${bad}.expect _want LIMIT_COUNT 1)
  wk_cli_fail(cluster_bad_${bad} "${_want}" cluster show ${B}/hw_${bad}.yaml)
endforeach()
# the example in docs/cluster-format.md builds
wk_cli_test(cluster_doc_example "cards +2048" cluster show ${CMAKE_SOURCE_DIR}/tests/data/example.yaml)
# a model larger than memory allows is refused before allocating, with the size named
wk_cli_fail(cluster_memory_bound "would have [0-9]+ links .* beyond the 0.0 GiB this machine allows" cluster show zhengzhou-60k)
set_tests_properties(cli_cluster_memory_bound PROPERTIES ENVIRONMENT "WANKA_MAX_MODEL_BYTES=1000000")
