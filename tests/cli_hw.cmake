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
wk_cli_fail(cluster_export_noformat "^error: cluster export needs a format: --slurm-topology \\(tree\\) or --slurm-block$" cluster export dgx-a100)
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
# a tweak the cluster's shape ignores is refused, naming the key and why
wk_cli_fail(cluster_tweak_top_tier "^error: cluster tweak 'fabric.tiers.3.oversubscription=7' changes nothing: tier 3 is the top tier"
  cluster show zhengzhou-60k:fabric.tiers.3.oversubscription=7)
wk_cli_fail(cluster_tweak_explicit_ports "^error: cluster tweak 'oversubscription=2' changes nothing: tier 1 gives its ports explicitly \\(down 20, up 20\\).*fabric.tiers.1.up=10"
  cluster show dgx-a100:oversubscription=2)
wk_cli_fail(cluster_tweak_radix_explicit "^error: cluster tweak 'fabric.tiers.2.radix=64' changes nothing: tier 2 gives its ports explicitly"
  cluster show dgx-a100:fabric.tiers.2.radix=64)
wk_cli_fail(cluster_tweak_up_without_down "^error: cluster tweak 'fabric.tiers.1.up=4' changes nothing: tier 1 takes its ports from its radix"
  cluster show zhengzhou-60k:fabric.tiers.1.up=4)
wk_cli_fail(cluster_tweak_torus_tiers "^error: cluster tweak 'oversubscription=2' changes nothing: the fabric is a torus"
  cluster show ${CMAKE_SOURCE_DIR}/tests/data/torus3d.yaml:oversubscription=2)
wk_cli_fail(cluster_tweak_dragonfly_on_clos "^error: cluster tweak 'fabric.dragonfly.global_per_router=4' changes nothing: the fabric is a Clos"
  cluster show dgx-a100:fabric.dragonfly.global_per_router=4)
wk_cli_test(cluster_tweak_radix_some_tiers "cluster +dgx-a100:radix=64" cluster show dgx-a100:radix=64)
# an error the tweaks cause names the tweak, not the preset's YAML
wk_cli_fail(cluster_tweak_blamed "^error: cluster tweak 'nodes=7' on zhengzhou-60k: 56 cards do not fill whole supernodes of 640: make nodes a multiple of 80$"
  cluster show zhengzhou-60k:oversubscription=2,nodes=7)
wk_cli_fail(cluster_tweaks_blamed "^error: cluster tweaks 'node.cards=3,supernode.cards=9' on zhengzhou-60k: "
  cluster show zhengzhou-60k:node.cards=3,supernode.cards=9)
wk_cli_fail(cluster_tweak_too_big "^error: cluster tweak 'nodes=100000' on dgx-a100: a 3-tier fabric .* holds at most 12800 NIC ports"
  train --cluster dgx-a100:nodes=100000 --model gpt3-175b --seq 2048 --gbs 64 --tp 8 --pp 8 --cards 64)
wk_cli_fail(cluster_memory_bound_preset "^error: cluster zhengzhou-60k: the fabric would have" cluster show zhengzhou-60k)
set_tests_properties(cli_cluster_memory_bound_preset PROPERTIES ENVIRONMENT "WANKA_MAX_MODEL_BYTES=1000000")
# cluster show --json carries everything the text shows
wk_cli_test(cluster_show_json_all
  "\"description\": \"Zhengzhou.*\"cables\": 245760.*\"peak_fp8_flops\": 6.02112e\\+?19.*\"hbm_bytes_per_s\": 1.10592e\\+?17.*\"bisection_share_of_injection\": 1.0.*\"card\".*\"hbm_bytes_per_s\": 1.8e\\+?12.*\"scaleup\".*\"bytes_per_s_per_card\": 2.24e\\+?11.*\"nics\".*\"per_card\": 1.*\"bytes_per_s\": 5e\\+?10.*\"domains\".*\"supernode\": 640.*\"leaf\": 320.*\"pod\": 1280"
  cluster show zhengzhou-60k --json)
# the tree keeps the supernode (scale-up domain) between leaf and pod; the block form has one
# block per scale-up domain, or per leaf where the domain is one node
wk_cli_test(cluster_export_tree_supernode "levels: leaf \\(40 nodes\\), sn \\(supernode, the scale-up domain: 80 nodes\\), pod \\(160 nodes\\)\nSwitchName=leaf0 Nodes=node\\[0000-0039\\]\n.*SwitchName=sn0 Switches=leaf\\[0-1\\]\n.*SwitchName=sn95 Switches=leaf\\[190-191\\]\nSwitchName=pod0 Switches=sn\\[0-1\\]\n.*SwitchName=pod47 Switches=sn\\[94-95\\]\nSwitchName=top Switches=pod\\[0-47\\]\n$"
  cluster export zhengzhou-60k --slurm-topology)
wk_cli_test(cluster_export_block "TopologyPlugin=topology/block.*one block per scale-up domain \\(supernode\\) of 80 nodes\nBlockName=block0 Nodes=node\\[0000-0079\\]\n.*BlockName=block95 Nodes=node\\[7600-7679\\]\nBlockSizes=80,160,320,640,1280,2560,5120\n$"
  cluster export zhengzhou-60k --slurm-block)
wk_cli_test(cluster_export_block_leaf "one block per leaf \\(the scale-up domain is one node\\) of 20 nodes\nBlockName=block0 Nodes=gpu\\[000-019\\].*BlockName=block27 Nodes=gpu\\[540-559\\]\nBlockSizes=20,40,80,160,320\n$"
  cluster export dgx-a100 --slurm-block --node-prefix gpu)
wk_cli_fail(cluster_export_both "^error: give --slurm-topology or --slurm-block, not both" cluster export dgx-a100 --slurm-topology --slurm-block)
